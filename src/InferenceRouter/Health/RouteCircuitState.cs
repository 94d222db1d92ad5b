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
}
