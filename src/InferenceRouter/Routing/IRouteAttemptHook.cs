namespace InferenceRouter;

/// <summary>
/// A rule the router asks before each attempt on a route — may this call go to this route now? — and tells how the attempt ended:
/// budgets reserve and settle through it, quotas and other admission rules plug in the same way.
/// </summary>
/// <remarks>
/// <para>Hooks come from the router (<see cref="RouterChatClient"/>'s <c>attemptHooks</c>, and those layers built over it register, such as
/// <c>UseBudgets</c>) and from the call (<see cref="CallContext.AttemptHooks"/>, added by a layer for one call); the router's run first.</para>
/// <para>The contract, exactly:</para>
/// <list type="bullet">
/// <item><see cref="AdmitAsync"/> runs once per attempt the router is about to make, before the route's circuit breaker, on the call's
/// flow; hedged attempts may run it concurrently for different routes. It never runs for a route the router already excluded.</item>
/// <item>It gets the caller's cancellation token, not the attempt's: the router's timeouts (<c>TimeToFirstTokenTimeout</c>,
/// <c>AttemptTimeout</c>) bound the provider's time and start after the admission, so a hook that waits (a quota's permit, a shared
/// ledger) bounds its own waits and is never cut short by them.</item>
/// <item>A denied admission is a verdict, not a failure: the route is skipped for this call (<see cref="RouteAttemptOutcome.NotAdmitted"/>),
/// the route's health and circuit are untouched, and the hooks after it are not asked. A denial with
/// <see cref="RouteAdmission.EndsCall"/> fails the call with its exception at once (a hedge already running carries on).</item>
/// <item>When the call's admissions all pass, each admitted hook's <see cref="RouteAdmission.Observer"/> (if any) is told exactly once how the
/// attempt ended (<see cref="IRouteAttemptObserver.OnAttemptEndedAsync"/>): when the answer arrived or the attempt failed, was cancelled,
/// lost a hedge, or — for streams — when the stream ended, failed or was abandoned. When a later hook denies, or the breaker rejects the
/// attempt, the observers of the hooks already admitted are told too (<see cref="RouteAttemptOutcome.Skipped"/>, nothing produced).</item>
/// <item>An exception thrown by <see cref="AdmitAsync"/> fails the call (after telling the observers already admitted); an exception thrown
/// by an observer is logged and never fails the call: the answer is already in hand.</item>
/// </list>
/// <para>Implementations must be thread-safe and cheap: they run on every attempt.</para>
/// </remarks>
public interface IRouteAttemptHook
{
    /// <summary>Decides whether the attempt may start.</summary>
    /// <param name="attempt">The attempt: the route, the call's context, its messages and options.</param>
    /// <param name="cancellationToken">The caller's cancellation (not the attempt's timeouts).</param>
    /// <returns>The verdict; <see cref="RouteAdmission.Admitted"/> to let it start.</returns>
    ValueTask<RouteAdmission> AdmitAsync(RouteAttemptContext attempt, CancellationToken cancellationToken);
}
