namespace InferenceRouter;

/// <summary>How strong a call's route must be, said the way people budget it; the predictor turns it into a gain threshold.</summary>
/// <param name="Kind">What <paramref name="Value"/> means.</param>
/// <param name="Value">The share of calls (<see cref="QualityBarKind.StrongShare"/>), the share of quality (<see cref="QualityBarKind.KeepQuality"/>) or the gain (<see cref="QualityBarKind.MaxGain"/>).</param>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public readonly record struct QualityBar(QualityBarKind Kind, double Value)
{
    /// <summary>At most <paramref name="share"/> of calls go to the strongest tier (calibrated as a quantile of predicted gains, as RouteLLM does).</summary>
    /// <param name="share">In [0, 1].</param>
    /// <returns>The bar.</returns>
    public static QualityBar StrongShare(double share) => new(QualityBarKind.StrongShare, Check(share, nameof(share)));

    /// <summary>Keep at least <paramref name="share"/> of the quality the strongest tier alone would give, with as few strong calls as that allows.</summary>
    /// <param name="share">In [0, 1], e.g. 0.95.</param>
    /// <returns>The bar.</returns>
    public static QualityBar KeepQuality(double share) => new(QualityBarKind.KeepQuality, Check(share, nameof(share)));

    /// <summary>A cheaper tier answers when the strongest tier is predicted to gain at most <paramref name="gain"/> over it (no calibration).</summary>
    /// <param name="gain">In [-1, 1]: a difference of success rates.</param>
    /// <returns>The bar.</returns>
    public static QualityBar MaxGain(double gain) =>
        gain is >= -1 and <= 1 ? new(QualityBarKind.MaxGain, gain) : throw new ArgumentOutOfRangeException(nameof(gain), gain, "A gain is a difference of success rates, in [-1, 1].");

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        QualityBarKind.StrongShare => $"at most {Value:P0} of calls to the strongest tier",
        QualityBarKind.KeepQuality => $"keep {Value:P0} of the strongest tier's quality",
        _ => $"strongest tier only when it gains more than {Value:F3}",
    };

    private static double Check(double share, string name) =>
        share is >= 0 and <= 1 ? share : throw new ArgumentOutOfRangeException(name, share, "A share must be in [0, 1] (0.2 means 20%).");
}
