namespace InferenceRouter;

/// <summary>
/// A budget's admission rule, registered with the router it is built over and run before each attempt of every call: it reserves the
/// attempt's worst case, for the call's tenant and user (<see cref="RouteAttemptContext.Call"/>), with the prices of the route it goes to.
/// A route that does not fit a <see cref="BudgetEnforcement.Downgrade"/> limit (or has no price) is skipped; one that does not fit a
/// <see cref="BudgetEnforcement.Reject"/> limit fails the call.
/// </summary>
/// <remarks>Immutable and thread-safe. Two hooks of the same budget are equal, so a router registers a budget once however many layers enforce it.</remarks>
internal sealed class BudgetAttemptHook(BudgetManager manager) : IRouteAttemptHook
{
    public BudgetManager Manager { get; } = manager;

    public ValueTask<RouteAdmission> AdmitAsync(RouteAttemptContext attempt, CancellationToken cancellationToken)
    {
        var call = attempt.Call;
        var target = Manager.GetTarget(attempt.Route);
        var pending = Manager.ReserveAsync(call.Tenant, call.User, target, attempt.PromptTokenUpperBound, attempt.Media, target.RawRequestLimiter, attempt.Route.Client, attempt.Messages, attempt.Options, cancellationToken);
        return pending.IsCompletedSuccessfully ? new(Verdict(pending.Result)) : AwaitAsync(pending);

        static async ValueTask<RouteAdmission> AwaitAsync(ValueTask<BudgetAttempt> pending) => Verdict(await pending.ConfigureAwait(false));
    }

    public override bool Equals(object? obj) => obj is BudgetAttemptHook other && ReferenceEquals(other.Manager, Manager);

    public override int GetHashCode() => Manager.GetHashCode();

    private static RouteAdmission Verdict(BudgetAttempt attempt) =>
        attempt.Denial is { } denial ? RouteAdmission.Deny(denial, endsCall: !attempt.CanDowngrade) : RouteAdmission.Admit(attempt, attempt.MaxOutputTokens);
}
