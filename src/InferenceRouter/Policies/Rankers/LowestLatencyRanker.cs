namespace InferenceRouter;

/// <summary>Ranks routes by measured latency: the moving average of time to first token for streams, of whole-call latency otherwise.</summary>
/// <remarks>
/// Routes not yet measured go first, so every route gets measured. With probability <see cref="ExplorationRate"/> a random candidate goes
/// first, so a route that was slow or failing is measured again after it recovers.
/// </remarks>
public sealed class LowestLatencyRanker : IRoutingPolicy
{
    /// <summary>Creates the ranker.</summary>
    /// <param name="explorationRate">The share of calls (0 to 1) that try a random candidate first. Default: 0.05.</param>
    public LowestLatencyRanker(double explorationRate = 0.05)
    {
        if (!(explorationRate >= 0 && explorationRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(explorationRate), explorationRate, "The exploration rate is a probability from 0 to 1, e.g. 0.05.");
        }

        ExplorationRate = explorationRate;
    }

    /// <summary>Gets the share of calls that try a random candidate first.</summary>
    public double ExplorationRate { get; }

    /// <inheritdoc/>
    public string Name => "lowest-latency";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        int explore = ExplorationRate > 0 && Random.Shared.NextDouble() < ExplorationRate ? Random.Shared.Next(selection.Count) : -1;
        for (int i = 0; i < selection.Count; i++)
        {
            if (selection.IsExcluded(i))
            {
                continue;
            }

            var health = selection.Routes[i].Health;
            double latency = selection.IsStreaming && !double.IsNaN(health.TimeToFirstTokenMilliseconds)
                ? health.TimeToFirstTokenMilliseconds
                : health.LatencyMilliseconds;
            selection.SetScore(i, this, i == explore ? -1 : double.IsNaN(latency) ? 0 : latency);
        }
    }
}
