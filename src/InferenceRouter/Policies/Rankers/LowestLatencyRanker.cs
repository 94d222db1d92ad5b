namespace InferenceRouter;

/// <summary>
/// Ranks routes by the latency each is expected to give now (<see cref="RouteHealth.PredictLatencyMilliseconds"/>: time to first token
/// for streams, the whole answer at a common length otherwise), weighted by load and failures as in Peak-EWMA:
/// <c>prediction × (1 + in-flight) / (1 - error rate)</c>.
/// </summary>
/// <remarks>
/// Routes not yet measured, or measured only by their cold first attempt, go first, so every route gets a warm measurement.
/// A route left unmeasured for <see cref="RouteHealth.ProbeInterval"/> goes first once (a probe), at most once per
/// <c>1 / <see cref="ExplorationRate"/></c> attempts, so a route that recovered wins its place back. How it behaves: docs/routing.md.
/// </remarks>
internal sealed class LowestLatencyRanker : IRoutingPolicy
{
    // A route failing almost always still ranks by its latency, twenty times over, rather than by infinity.
    private const double MinSuccessRate = 0.05;
    private const double UnmeasuredScore = -1;
    private const double ProbeScore = -2;

    private readonly ProbePacer _probes;

    /// <summary>Creates the ranker.</summary>
    /// <param name="explorationRate">The most calls, as a share (0 to 1), that may probe one route. Default: 0.05.</param>
    public LowestLatencyRanker(double explorationRate = 0.05)
    {
        if (!(explorationRate >= 0 && explorationRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(explorationRate), explorationRate, "The exploration rate is a probability from 0 to 1, e.g. 0.05.");
        }

        ExplorationRate = explorationRate;
        _probes = new ProbePacer(explorationRate);
    }

    /// <summary>Gets the most calls, as a share, that may probe one route.</summary>
    public double ExplorationRate { get; }

    /// <inheritdoc/>
    public string Name => "lowest-latency";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        bool streaming = selection.IsStreaming;
        double length = streaming ? double.NaN : CommonAnswerLength(selection);
        int leader = -1;
        double best = double.MaxValue;
        for (int i = 0; i < selection.Count; i++)
        {
            if (selection.IsExcluded(i))
            {
                continue;
            }

            var health = selection.Routes[i].Health;
            double score;
            if (i == selection.ProbeIndex)
            {
                score = ProbeScore;
            }
            else if (health.IsUnmeasured(streaming))
            {
                score = UnmeasuredScore;
            }
            else
            {
                double predicted = health.PredictLatencyMilliseconds(streaming, length);
                score = predicted * (1 + health.InFlight) / Math.Max(1 - health.ErrorRate, MinSuccessRate);
            }

            selection.SetScore(i, this, score);
            if (score < best)
            {
                (best, leader) = (score, i);
            }
        }

        if (best >= 0 && _probes.MayProbe(selection, out var window))
        {
            for (int i = 0; i < selection.Count; i++)
            {
                if (i != leader && !selection.IsExcluded(i) && _probes.TryProbe(selection, i, window))
                {
                    selection.SetScore(i, this, ProbeScore);
                    break;
                }
            }
        }
    }

    /// <summary>The answer length to compare routes at: the mean of the candidates' typical lengths (NaN when none is known).</summary>
    private static double CommonAnswerLength(RouteSelection selection)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < selection.Count; i++)
        {
            double typical = selection.Routes[i].Health.TypicalOutputTokens;
            if (!selection.IsExcluded(i) && !double.IsNaN(typical))
            {
                sum += typical;
                count++;
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }
}
