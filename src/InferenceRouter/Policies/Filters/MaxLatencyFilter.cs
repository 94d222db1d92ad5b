namespace InferenceRouter;

/// <summary>Excludes routes whose typical latency (moving average; time to first token for streams) exceeds <see cref="RoutingHints.MaxLatency"/>.</summary>
/// <remarks>Routes without measurements pass: they may be fast, and only traffic tells.</remarks>
public sealed class MaxLatencyFilter : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "max-latency";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (selection.Hints.MaxLatency is not { } max)
        {
            return;
        }

        double limit = max.TotalMilliseconds;
        for (int i = 0; i < selection.Count; i++)
        {
            var health = selection.Routes[i].Health;
            double typical = selection.IsStreaming ? health.TimeToFirstTokenMilliseconds : health.LatencyMilliseconds;
            if (!selection.IsExcluded(i) && typical > limit)
            {
                selection.Exclude(i, this, selection.IsExplaining ? $"typical latency {typical:F0} ms over {limit:F0} ms" : "typical latency over the maximum");
            }
        }
    }
}
