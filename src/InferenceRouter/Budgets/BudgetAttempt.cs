using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// One call's (or route attempt's) hold on the budget: the reservation to settle or release, or why the budget denied it. Under a router
/// it is the attempt's observer: told how the attempt ended, it charges what the provider may bill for (what it produced, or an estimate
/// once the request may have left) and releases the reservation only when nothing can have been billed.
/// </summary>
internal sealed class BudgetAttempt : IRouteAttemptObserver
{
    private int _completed;

    public BudgetAttempt(BudgetManager manager, BudgetTarget target, BudgetReservation? reservation, string? tenant, long promptTokens, int maxOutputTokens, decimal estimate, long startedTimestamp)
    {
        MaxOutputTokens = maxOutputTokens;
        Manager = manager;
        Target = target;
        Reservation = reservation;
        Tenant = tenant;
        PromptTokens = promptTokens;
        Estimate = estimate;
        StartedTimestamp = startedTimestamp;
    }

    private BudgetAttempt(Exception denial, BudgetTarget target)
    {
        Denial = denial;
        Target = target;
        Manager = null!;
    }

    public BudgetManager Manager { get; }

    public BudgetTarget Target { get; }

    /// <summary>Gets the ledger's reservation; null when no limit applies to the call (its cost is still counted).</summary>
    public BudgetReservation? Reservation { get; }

    public string? Tenant { get; }

    /// <summary>Gets the prompt tokens reserved for (an upper bound, or the exact count near a limit).</summary>
    public long PromptTokens { get; }

    /// <summary>Gets a value indicating whether the prompt may hold audio on a route that prices audio above text (reserved, and charged without a breakdown, at the audio price).</summary>
    public bool PromptHasAudio { get; init; }

    /// <summary>Gets the output limit the reservation covers: the one the provider must be sent.</summary>
    public int MaxOutputTokens { get; }

    /// <summary>Gets the amount reserved: the call's worst case.</summary>
    public decimal Estimate { get; }

    public long StartedTimestamp { get; }

    /// <summary>Gets why the budget turned the call away: a <see cref="BudgetExceededException"/>, or an <see cref="InvalidOperationException"/> for an unpriced model.</summary>
    public Exception? Denial { get; }

    /// <summary>Gets a value indicating whether a router should try another route rather than fail the call.</summary>
    public bool CanDowngrade => Denial is not (BudgetExceededException { Enforcement: BudgetEnforcement.Reject } or UnknownTenantException or UnboundedOutputException { EndsCall: true });

    public static BudgetAttempt Deny(Exception denial, BudgetTarget target) => new(denial, target);

    /// <summary>Charges the real cost (from usage, else counted) once; later calls return null.</summary>
    public ValueTask<CallCost?> SettleAsync(UsageDetails? usage, string? outputText) =>
        IsOpen ? ChargeAsync(Target.Price(usage, PromptTokens, outputText, Manager.Catalog.Currency, PromptHasAudio)) : default;

    /// <inheritdoc/>
    public ValueTask<CallCost?> OnAttemptEndedAsync(RouteAttemptReport report)
    {
        if (report.OutputIncomplete)
        {
            return IsOpen ? ChargeAsync(Manager.EstimateIncomplete(this, report.Usage, report.OutputText)) : default;
        }

        if (report.ProducedOutput)
        {
            return SettleAsync(report.Usage, report.OutputText);
        }

        if (report.LateUsage is { } late)
        {
            return ChargeWhenLateAnswerEndsAsync(late);
        }

        return report.MayHaveBeenBilled ? ChargeReservationAsync() : ReleaseWithoutCostAsync();
    }

    /// <summary>
    /// Settles a stream that ended, failed or was abandoned. A stream the provider ended is charged what it produced; one that ended early is
    /// charged what came plus <see cref="BudgetOptions.UnreceivedOutputAllowance"/> (it generated on until it saw the stream go); one that
    /// failed before anything came is released only when it cannot have been billed (<paramref name="mayHaveBeenBilled"/>).
    /// </summary>
    public ValueTask<CallCost?> CloseAsync(StreamUsage usage, bool complete, bool mayHaveBeenBilled)
    {
        if (!IsOpen)
        {
            return default;
        }

        if (complete)
        {
            return SettleAsync(usage.Usage, usage.TextToCount);
        }

        return usage.SawOutput || mayHaveBeenBilled ? ChargeAsync(Manager.EstimateIncomplete(this, usage.Usage, usage.TextToCount)) : ReleaseWithoutCostAsync();
    }

    /// <summary>Settles a non-streaming call that failed before it answered: the reservation when it may have been billed, else released.</summary>
    public ValueTask EndUnansweredAsync(bool mayHaveBeenBilled)
    {
        if (!mayHaveBeenBilled)
        {
            return ReleaseAsync();
        }

        var charging = ChargeReservationAsync();
        return charging.IsCompletedSuccessfully ? default : new ValueTask(charging.AsTask());
    }

    /// <summary>Gives the reservation back (the call cannot have been billed: it was never sent, or the provider refused it) once.</summary>
    public ValueTask ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0 || Reservation is null)
        {
            return default;
        }

        return Manager.ReleaseAsync(Reservation, Target.SpendKey);
    }

    private bool IsOpen => Volatile.Read(ref _completed) == 0;

    /// <summary>Charges <paramref name="cost"/> once; later calls return null.</summary>
    private ValueTask<CallCost?> ChargeAsync(CallCost cost)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return default;
        }

        var settling = Manager.SettleAsync(this, cost);
        return settling.IsCompletedSuccessfully ? new(settling.Result) : AwaitAsync(settling);

        static async ValueTask<CallCost?> AwaitAsync(ValueTask<CallCost> settling) => await settling.ConfigureAwait(false);
    }

    /// <summary>The request left and nothing came back: charged what was reserved (the provider usually finishes such a call), marked estimated.</summary>
    private ValueTask<CallCost?> ChargeReservationAsync() => IsOpen ? ChargeAsync(Manager.EstimateUnanswered(this)) : default;

    /// <summary>
    /// An answer the router stopped waiting for may still come: the reservation stays held until it does (its usage is the charge) or it ends
    /// without one (the reservation is). Nobody waits for this charge: the caller has had its cancellation or the next route's answer.
    /// </summary>
    private ValueTask<CallCost?> ChargeWhenLateAnswerEndsAsync(Task<UsageDetails?> late)
    {
        if (late.IsCompletedSuccessfully)
        {
            return ChargeLateAnswer(late.Result);
        }

        _ = ChargeWhenEndedAsync(late);
        return default;

        async Task ChargeWhenEndedAsync(Task<UsageDetails?> late)
        {
            UsageDetails? usage = null;
            try
            {
                usage = await late.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // It ended without an answer: the reservation is charged.
            }

            await ChargeLateAnswer(usage).ConfigureAwait(false);
        }
    }

    /// <summary>Usage that counts the output is the charge (trued up); anything less leaves the reservation as the charge.</summary>
    private ValueTask<CallCost?> ChargeLateAnswer(UsageDetails? usage) =>
        usage?.OutputTokenCount is not null ? SettleAsync(usage, null) : ChargeReservationAsync();

    private async ValueTask<CallCost?> ReleaseWithoutCostAsync()
    {
        await ReleaseAsync().ConfigureAwait(false);
        return null;
    }
}
