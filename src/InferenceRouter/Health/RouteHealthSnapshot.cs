namespace InferenceRouter;

/// <summary>A read-only copy of a route's passive health statistics at one moment.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="InFlight">Attempts on the route now under way (streams count until they end).</param>
/// <param name="Attempts">Attempts started since the router was created.</param>
/// <param name="Successes">Attempts that succeeded.</param>
/// <param name="Failures">Attempts that failed for the route's sake (transient, rate limited, misconfigured, unknown errors).</param>
/// <param name="Cancellations">Attempts cancelled by the caller or by hedging.</param>
/// <param name="ErrorRate">Exponentially weighted recent failure rate, 0 to 1.</param>
/// <param name="Latency">Estimated time to a whole answer (<see cref="RouteHealth.LatencyMilliseconds"/>); null before the first sample.</param>
/// <param name="TimeToFirstToken">Estimated time to the first streamed update; null before the first stream.</param>
/// <param name="CircuitState">The circuit breaker's state.</param>
/// <param name="UnavailableUntil">When the route asked to wait (Retry-After) or its circuit break ends; null when available.</param>
/// <param name="TimePerOutputToken">Estimated time per output token; null before it could be measured.</param>
/// <param name="RequestErrors">
/// Attempts the provider refused for the request's own sake (an invalid request, a prompt too long for the route, a content filter,
/// something the model cannot do): not failures, no error rate. Attempts = successes + failures + cancellations + request errors + in flight.
/// </param>
/// <param name="MisconfiguredStatusCode">The status that took the route out of service as misconfigured (401, 403, 404…); null while in service.</param>
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
    TimeSpan? TimePerOutputToken = null,
    long RequestErrors = 0,
    int? MisconfiguredStatusCode = null);
