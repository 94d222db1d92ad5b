namespace InferenceRouter;

/// <summary>A read-only copy of a route's passive health statistics at one moment.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="InFlight">Attempts on the route now under way (streams count until they end).</param>
/// <param name="Attempts">Attempts started since the router was created.</param>
/// <param name="Successes">Attempts that succeeded.</param>
/// <param name="Failures">Attempts that failed (transient or not).</param>
/// <param name="Cancellations">Attempts cancelled by the caller or by hedging.</param>
/// <param name="ErrorRate">Exponentially weighted recent failure rate, 0 to 1.</param>
/// <param name="Latency">Estimated time to a whole answer (<see cref="RouteHealth.LatencyMilliseconds"/>); null before the first sample.</param>
/// <param name="TimeToFirstToken">Estimated time to the first streamed update; null before the first stream.</param>
/// <param name="CircuitState">The circuit breaker's state.</param>
/// <param name="UnavailableUntil">When the route asked to wait (Retry-After) or its circuit break ends; null when available.</param>
/// <param name="TimePerOutputToken">Estimated time per output token; null before it could be measured.</param>
public readonly record struct RouteHealthSnapshot(
    string Route,
    long InFlight,
    long Attempts,
    long Successes,
    long Failures,
    long Cancellations,
    double ErrorRate,
    TimeSpan? Latency,
    TimeSpan? TimeToFirstToken,
    RouteCircuitState CircuitState,
    DateTimeOffset? UnavailableUntil,
    TimeSpan? TimePerOutputToken = null);
