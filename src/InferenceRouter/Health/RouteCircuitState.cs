namespace InferenceRouter;

/// <summary>The state of a route's circuit breaker.</summary>
public enum RouteCircuitState
{
    /// <summary>Calls flow normally.</summary>
    Closed = 0,

    /// <summary>Too many recent failures: the route is skipped until the break ends.</summary>
    Open = 1,

    /// <summary>The break ended: one probe call decides whether the circuit closes again.</summary>
    HalfOpen = 2,

    /// <summary>Held open by hand until closed by hand.</summary>
    Isolated = 3,

    /// <summary>
    /// Out of service: the provider said the route cannot work as configured (401, 402, 403, 404, no quota or credit). One call probes it
    /// every <see cref="RouterOptions.MisconfiguredRouteProbeInterval"/>; it is back when a probe answers or an operator calls
    /// <see cref="RouterChatClient.RestoreRoute"/>.
    /// </summary>
    Misconfigured = 4,
}
