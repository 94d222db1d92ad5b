namespace InferenceRouter;

/// <summary>Excludes routes whose circuit is open or that asked callers to wait (Retry-After) until a time still ahead.</summary>
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
                bool waiting = health.CircuitState == RouteCircuitState.Closed;
                string reason = !selection.IsExplaining
                    ? (waiting ? "asked to wait (Retry-After)" : health.CircuitState == RouteCircuitState.Isolated ? "drained" : "circuit open")
                    : waiting ? $"asked to wait until {until:O}" : $"circuit {health.CircuitState} until {until:O}";
                selection.Exclude(i, this, reason);
                selection.NoteSkipped(i, reason);
            }
        }
    }
}
