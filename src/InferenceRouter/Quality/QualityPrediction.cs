namespace InferenceRouter;

/// <summary>What the predictor expects of each quality tier for one prompt, and what it based that on.</summary>
/// <remarks>Immutable. Quality is a success rate in [0, 1] (an outcome score's expected value); tier 0 is the cheapest.</remarks>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed class QualityPrediction
{
    private readonly double[] _quality;

    internal QualityPrediction(double difficulty, double evidence, double[] quality, double threshold, QualityBar bar)
    {
        Difficulty = difficulty;
        Evidence = evidence;
        _quality = quality;
        Threshold = threshold;
        Bar = bar;
        ChosenTier = ChooseTier(ReadOnlySpan<bool>.Empty);
    }

    /// <summary>Gets the prior's difficulty: how likely the cheapest tier is to fail this prompt, from its text alone.</summary>
    public double Difficulty { get; }

    /// <summary>Gets how many recorded outcomes (similarity-weighted) near this prompt informed the prediction; 0 means the prior alone.</summary>
    public double Evidence { get; }

    /// <summary>Gets the predicted quality of each tier, cheapest first.</summary>
    public IReadOnlyList<double> Quality => _quality;

    /// <summary>Gets the gain threshold the bar was calibrated to: a tier answers when the strongest gains at most this much over it.</summary>
    public double Threshold { get; }

    /// <summary>Gets the bar the threshold came from.</summary>
    public QualityBar Bar { get; }

    /// <summary>Gets the cheapest tier that clears the bar when every tier is available.</summary>
    public int ChosenTier { get; }

    /// <summary>Gets how much the strongest tier is predicted to gain over <paramref name="tier"/>.</summary>
    /// <param name="tier">A tier, 0 to <c>Quality.Count - 1</c>.</param>
    /// <returns>The gain (negative when <paramref name="tier"/> is predicted to do better).</returns>
    public double GainOver(int tier) => _quality[^1] - _quality[tier];

    /// <summary>Returns the cheapest tier that clears the bar among <paramref name="available"/> (all tiers when null).</summary>
    /// <param name="available">Which tiers have a route left (index = tier), or null.</param>
    /// <returns>The tier; the strongest available when none clears the bar, or -1 when none is available.</returns>
    public int ChooseTier(ReadOnlySpan<bool> available) => Choose(_quality, Threshold, available);

    /// <summary>The cheapest available tier the strongest gains at most <paramref name="threshold"/> over; else the strongest available, or -1.</summary>
    internal static int Choose(ReadOnlySpan<double> quality, double threshold, ReadOnlySpan<bool> available)
    {
        int strongest = -1;
        for (int tier = 0; tier < quality.Length; tier++)
        {
            if (!available.IsEmpty && (tier >= available.Length || !available[tier]))
            {
                continue;
            }

            if (quality[^1] - quality[tier] <= threshold)
            {
                return tier;
            }

            strongest = tier;
        }

        return strongest;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"tier {ChosenTier}: gain over tier 0 {GainOver(0):F3} vs threshold {Threshold:F3} ({Bar}); difficulty {Difficulty:F3}, evidence {Evidence:F1}, quality [{string.Join(", ", _quality.Select(q => q.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}]";
}
