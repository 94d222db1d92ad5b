namespace InferenceRouter.Eval;

/// <summary>How well a router's scores (higher: send to the strong model) trade strong-model calls for quality, as RouteLLM measures it.</summary>
/// <param name="Apgr">Average performance gap recovered: the area under PGR against the share of strong calls (random: 0.5).</param>
/// <param name="Cpt50">The least share of strong calls that recovers 50% of the gap between the weak and the strong model.</param>
/// <param name="Cpt80">The same for 80%.</param>
/// <param name="StrongShareFor95">The least share of strong calls that reaches 95% of the strong model's accuracy.</param>
public readonly record struct RoutingMetrics(double Apgr, double Cpt50, double Cpt80, double StrongShareFor95)
{
    /// <summary>Routes the top-scored k prompts to the strong model for every k and measures the curve.</summary>
    public static RoutingMetrics Measure(IReadOnlyList<RoutingExample> test, IReadOnlyList<double> scores)
    {
        int n = test.Count;
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        double weak = test.Count(e => e.WeakCorrect), strong = test.Count(e => e.StrongCorrect);
        double gap = strong - weak;
        double correct = weak;  // k = 0: everything to the weak model
        double previousPgr = 0, area = 0;
        double cpt50 = double.NaN, cpt80 = double.NaN, for95 = double.NaN;
        for (int k = 0; k <= n; k++)
        {
            if (k > 0)
            {
                correct += test[order[k - 1]].Gain;
            }

            double pgr = gap == 0 ? 1 : (correct - weak) / gap;
            double share = (double)k / n;
            if (k > 0)
            {
                area += (pgr + previousPgr) / 2 / n;
            }

            previousPgr = pgr;
            if (double.IsNaN(cpt50) && pgr >= 0.5)
            {
                cpt50 = share;
            }

            if (double.IsNaN(cpt80) && pgr >= 0.8)
            {
                cpt80 = share;
            }

            if (double.IsNaN(for95) && correct >= 0.95 * strong)
            {
                for95 = share;
            }
        }

        return new RoutingMetrics(area, cpt50, cpt80, for95);
    }

    /// <summary>Averages several measurements (a random router over seeds).</summary>
    public static RoutingMetrics Mean(IReadOnlyList<RoutingMetrics> runs) => new(
        runs.Average(r => r.Apgr), runs.Average(r => r.Cpt50), runs.Average(r => r.Cpt80), runs.Average(r => r.StrongShareFor95));

    /// <inheritdoc/>
    public override string ToString() =>
        $"APGR={Apgr:F3} CPT50={Cpt50 * 100:F1}% CPT80={Cpt80 * 100:F1}% strong-share-for-95%={StrongShareFor95 * 100:F1}%";
}
