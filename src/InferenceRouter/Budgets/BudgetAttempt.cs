using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// One call's (or route attempt's) hold on the budget: the reservation to settle or release, or why the budget denied it. Under a router
/// it is the attempt's observer: told how the attempt ended, it settles what the provider produced or releases the rest.
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

    public long PromptTokens { get; }

    /// <summary>Gets the output limit the reservation covers: the one the provider must be sent.</summary>
    public int MaxOutputTokens { get; }

    public decimal Estimate { get; }

    public long StartedTimestamp { get; }

    /// <summary>Gets why the budget turned the call away: a <see cref="BudgetExceededException"/>, or an <see cref="InvalidOperationException"/> for an unpriced model.</summary>
    public Exception? Denial { get; }

    /// <summary>Gets a value indicating whether a router should try another route rather than fail the call.</summary>
    public bool CanDowngrade => Denial is not (BudgetExceededException { Enforcement: BudgetEnforcement.Reject } or UnknownTenantException or UnboundedOutputException { EndsCall: true });

    public static BudgetAttempt Deny(Exception denial, BudgetTarget target) => new(denial, target);

    /// <summary>Charges the real cost (from usage, else counted) once; later calls return null.</summary>
    public ValueTask<CallCost?> SettleAsync(UsageDetails? usage, string? outputText)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return default;
        }

        var settling = Manager.SettleAsync(this, usage, outputText);
        return settling.IsCompletedSuccessfully ? new(settling.Result) : AwaitAsync(settling);

        static async ValueTask<CallCost?> AwaitAsync(ValueTask<CallCost> settling) => await settling.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask<CallCost?> OnAttemptEndedAsync(RouteAttemptReport report) =>
        report.ProducedOutput ? SettleAsync(report.Usage, report.OutputText) : ReleaseWithoutCostAsync();

    /// <summary>Settles a stream that ended, failed or was abandoned: what the provider produced is charged (it bills for it), else released.</summary>
    public ValueTask<CallCost?> CloseAsync(StreamUsage usage) => usage.SawOutput ? SettleAsync(usage.Usage, usage.TextToCount) : ReleaseWithoutCostAsync();

    private async ValueTask<CallCost?> ReleaseWithoutCostAsync()
    {
        await ReleaseAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>Gives the reservation back (the call failed before the provider produced anything) once.</summary>
    public ValueTask ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0 || Reservation is null)
        {
            return default;
        }

        return Manager.ReleaseAsync(Reservation, Target.SpendKey);
    }
}
