namespace InferenceRouter;

/// <summary>Excludes routes whose expected latency (<see cref="RouteHealth.PredictLatencyMilliseconds"/>; time to first token for streams) exceeds <see cref="RoutingHints.MaxLatency"/>.</summary>
/// <remarks>
/// Routes without measurements pass: they may be fast, and only traffic tells. An excluded route left unmeasured for
/// <see cref="RouteHealth.ProbeInterval"/> lets one call through (and the <c>lowest-latency</c> policy tries it first), so a route that
/// recovered is not excluded for ever; probes are paced like the ranker's (<see cref="RouterOptions.LatencyExplorationRate"/>).
/// </remarks>
internal sealed class MaxLatencyFilter : IRoutingPolicy
{
    private readonly ProbePacer _probes;

    /// <summary>Creates the filter.</summary>
    /// <param name="probeRate">The most calls, as a share (0 to 1), that may probe one excluded route. Default: 0.05.</param>
    public MaxLatencyFilter(double probeRate = 0.05)
    {
        if (!(probeRate >= 0 && probeRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probeRate), probeRate, "The probe rate is a share of calls from 0 to 1, e.g. 0.05.");
        }

        _probes = new ProbePacer(probeRate);
    }

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
            double expected = health.PredictLatencyMilliseconds(selection.IsStreaming);
            if (selection.IsExcluded(i) || !(expected > limit))
            {
                continue;
            }

            if (_probes.MayProbe(selection, out var window) && _probes.TryProbe(selection, i, window))
            {
                continue;
            }

            selection.Exclude(i, this, selection.IsExplaining ? $"expected latency {expected:F0} ms over {limit:F0} ms" : "expected latency over the maximum");
        }
    }
}
