namespace InferenceRouter;

public sealed partial class QualityPredictor
{
    /// <summary>Turns the bar into a gain threshold over the calibration prompts: the recorded sample, or the prior's quantiles before any.</summary>
    private Calibration Calibrate()
    {
        long outcomes = OutcomeCount;
        (float[] Features, float[]? Vector)[] sample;
        lock (_recordLock)
        {
            sample = [.. _sample];
        }

        // Difficulties are recomputed: the app's model may have learned since a prompt was sampled.
        (double Difficulty, float[]? Vector)[] points = sample.Length > 0
            ? [.. sample.Select(p => (Difficulty(p.Features, p.Vector), p.Vector))]
            : [.. Prior.Quantiles.ToArray().Select(d => (d, (float[]?)null))];

        // The centre difficulties move around: the mean over the app's prompts under the current model (the prior's own before any).
        double meanDifficulty = sample.Length > 0 ? points.Average(p => p.Difficulty) : Prior.MeanDifficulty;
        var qualities = new double[points.Length][];
        var margins = new double[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            var quality = qualities[i] = new double[TierCount];
            Estimate(points[i].Difficulty, meanDifficulty, points[i].Vector, quality);
            margins[i] = quality[^1] - quality[..^1].Max();  // the strongest tier answers only when its gain over every cheaper tier passes the threshold
        }

        return new Calibration(CalibratedThreshold(_bar, qualities, margins), meanDifficulty, outcomes);
    }

    /// <summary>The threshold the bar asks for over these predictions.</summary>
    private static double CalibratedThreshold(QualityBar bar, double[][] qualities, double[] margins)
    {
        if (bar.Kind == QualityBarKind.MaxGain)
        {
            return bar.Value;
        }

        if (margins.Length == 0)
        {
            return 0;
        }

        var sorted = margins.Order().ToArray();
        if (bar.Kind == QualityBarKind.StrongShare)
        {
            int strong = (int)Math.Round(bar.Value * sorted.Length);
            return strong == 0 ? sorted[^1] : sorted[sorted.Length - strong] - 1e-9;
        }

        // KeepQuality: the highest threshold (fewest strong calls) whose routed quality still keeps the asked share of the strongest tier's.
        double strongest = qualities.Sum(q => q[^1]);
        for (int i = sorted.Length - 1; i >= 0; i--)
        {
            double threshold = sorted[i];
            double kept = 0;
            foreach (var quality in qualities)
            {
                kept += quality[QualityPrediction.Choose(quality, threshold, default)];
            }

            if (kept >= bar.Value * strongest)
            {
                return threshold;
            }
        }

        return sorted[0] - 1e-9;
    }

    private sealed record Calibration(double Threshold, double MeanDifficulty, long Outcomes);
}
