namespace InferenceRouter;

/// <summary>
/// A budget's admission rule for one tenant and user, run by the router before each attempt: it reserves the attempt's worst case with
/// the prices of the route it goes to. A route that does not fit a <see cref="BudgetEnforcement.Downgrade"/> limit (or has no price) is
/// skipped; one that does not fit a <see cref="BudgetEnforcement.Reject"/> limit fails the call.
/// </summary>
/// <remarks>Immutable and thread-safe: <see cref="BudgetChatClient"/> reuses one per tenant and user.</remarks>
internal sealed class BudgetAttemptHook(BudgetManager manager, string? tenant, string? user) : IRouteAttemptHook
{
    public BudgetManager Manager { get; } = manager;

    public string? Tenant { get; } = tenant;

    public string? User { get; } = user;

    public ValueTask<RouteAdmission> AdmitAsync(RouteAttemptContext attempt, CancellationToken cancellationToken)
    {
        var pending = Manager.ReserveAsync(Tenant, User, Manager.GetTarget(attempt.Route), attempt.PromptTokenUpperBound, attempt.Messages, attempt.Options, cancellationToken);
        return pending.IsCompletedSuccessfully ? new(Verdict(pending.Result)) : AwaitAsync(pending);

        static async ValueTask<RouteAdmission> AwaitAsync(ValueTask<BudgetAttempt> pending) => Verdict(await pending.ConfigureAwait(false));
    }

    private static RouteAdmission Verdict(BudgetAttempt attempt) =>
        attempt.Denial is { } denial ? RouteAdmission.Deny(denial, endsCall: !attempt.CanDowngrade) : RouteAdmission.Admit(attempt, attempt.MaxOutputTokens);
}
