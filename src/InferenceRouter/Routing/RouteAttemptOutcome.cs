namespace InferenceRouter;

/// <summary>How one attempt on one route ended.</summary>
public enum RouteAttemptOutcome
{
    /// <summary>The route answered (for streams: the first update arrived).</summary>
    Succeeded,

    /// <summary>The route failed; see <see cref="RouteAttempt.Error"/>.</summary>
    Failed,

    /// <summary>The attempt timed out (attempt or time-to-first-token timeout).</summary>
    TimedOut,

    /// <summary>
    /// The attempt was cancelled: by the router because another hedged attempt won (it is listed with its time until then), or by the caller.
    /// </summary>
    Cancelled,

    /// <summary>The route was skipped: its circuit was open, it asked callers to wait, or it is out of service as misconfigured (and not due for a probe).</summary>
    Skipped,

    /// <summary>
    /// An <see cref="IRouteAttemptHook"/> did not admit the call to this route, so it was not tried: a budget limit could not take the call's
    /// worst-case cost there (or the route's model has no price), a quota was full; <see cref="RouteAttempt.Error"/> says why.
    /// </summary>
    NotAdmitted,
}
