namespace InferenceRouter;

/// <summary>Excludes routes whose circuit is open, that asked callers to wait (Retry-After) or are out of service as misconfigured, until a time still ahead.</summary>
/// <remarks>A route whose break has ended passes, so the circuit breaker can let its half-open probe through.</remarks>
internal sealed class HealthFilter : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "health";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        for (int i = 0; i < selection.Count; i++)
        {
            var health = selection.Routes[i].Health;
            if (!selection.IsExcluded(i) && health.IsUnavailable(out var until))
            {
                var state = health.CircuitState;
                bool waiting = state == RouteCircuitState.Closed;
                string reason = !selection.IsExplaining
                    ? (waiting ? "asked to wait (Retry-After)" : state switch
                    {
                        RouteCircuitState.Isolated => "drained",
                        RouteCircuitState.Misconfigured => "misconfigured",
                        _ => "circuit open",
                    })
                    : waiting ? $"asked to wait until {until:O}"
                    : state == RouteCircuitState.Misconfigured
                        ? $"misconfigured (HTTP {health.MisconfiguredStatusCode}); out of service until {(until == DateTimeOffset.MaxValue ? "RestoreRoute" : $"a probe at {until:O} answers, or RestoreRoute")}"
                        : $"circuit {state} until {until:O}";
                selection.Exclude(i, this, reason);
                selection.NoteSkipped(i, reason);
            }
        }
    }
}
