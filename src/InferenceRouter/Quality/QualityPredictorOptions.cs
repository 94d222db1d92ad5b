namespace InferenceRouter;

/// <summary>Options for <see cref="QualityPredictor"/>, bound from the <c>InferenceRouter:Quality</c> section.</summary>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed class QualityPredictorOptions
{
    /// <summary>The configuration section, under the router's.</summary>
    public const string SectionName = "Quality";

    /// <summary>Gets or sets how many quality tiers there are (routes declare theirs, 0 = cheapest). Default: 2.</summary>
    public int TierCount { get; set; } = 2;

    /// <summary>Gets or sets the most calls, as a share, that may go to the strongest tier. The default bar (0.3) when no bar is set.</summary>
    public double? StrongShare { get; set; }

    /// <summary>Gets or sets the least share of the strongest tier's quality to keep (e.g. 0.95), instead of <see cref="StrongShare"/>.</summary>
    public double? KeepQuality { get; set; }

    /// <summary>Gets or sets the largest predicted gain of the strongest tier that still lets a cheaper tier answer, instead of a calibrated bar.</summary>
    public double? MaxGain { get; set; }

    /// <summary>
    /// Gets or sets whether the embedding generator runs on this device, so calls kept on the device may be embedded; null (the default)
    /// decides from its metadata (<see cref="EgressGate.IsOnDevice"/>). A remote generator never sees such calls: they are predicted from
    /// the prompt's text features alone, and their outcomes recorded without an embedding.
    /// </summary>
    public bool? EmbeddingsOnDevice { get; set; }

    /// <summary>Gets or sets a file the learned state loads from at start and saves to (<see cref="QualityPredictor.Save()"/>, and on dispose).</summary>
    public string? StatePath { get; set; }

    /// <summary>
    /// Gets or sets how many recorded outcomes' worth of certainty the prior carries (each nearby outcome counts its cosine similarity):
    /// more trusts the prior longer. Default: 4.
    /// </summary>
    public double PriorWeight { get; set; } = 4;

    /// <summary>Gets or sets the most evidence cells (groups of similar recorded prompts) kept; memory and prediction time grow with it. Default: 1,024.</summary>
    public int MaxCells { get; set; } = 1024;

    /// <summary>Gets or sets the cosine similarity above which a recorded prompt joins an existing cell rather than starting one. Default: 0.6.</summary>
    public double CellSimilarity { get; set; } = 0.6;

    /// <summary>Gets or sets the least cosine similarity at which a cell informs a prediction: less similar prompts are no evidence. Default: 0.2.</summary>
    public double MinSimilarity { get; set; } = 0.2;

    /// <summary>Gets or sets how many of the nearest cells inform a prediction. Default: 16.</summary>
    public int NeighbourCells { get; set; } = 16;

    /// <summary>Gets or sets how many recorded prompts are kept to calibrate the bar on. Default: 1,000.</summary>
    public int CalibrationSampleSize { get; set; } = 1000;

    /// <summary>Gets the bar these options set.</summary>
    /// <returns>The bar: <see cref="StrongShare"/>, <see cref="KeepQuality"/> or <see cref="MaxGain"/>, else at most 30% strong calls.</returns>
    public QualityBar GetBar() =>
        StrongShare is { } share ? QualityBar.StrongShare(share) :
        KeepQuality is { } keep ? QualityBar.KeepQuality(keep) :
        MaxGain is { } gain ? QualityBar.MaxGain(gain) : QualityBar.StrongShare(0.3);

    /// <summary>Lists what is wrong with these options, each with how to fix it.</summary>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors()
    {
        if (TierCount is < 2 or > 16)
        {
            yield return $"Quality:TierCount is {TierCount}; give 2 to 16 tiers (routes declare QualityTier 0 for the cheapest up to TierCount - 1).";
        }

        int bars = (StrongShare is null ? 0 : 1) + (KeepQuality is null ? 0 : 1) + (MaxGain is null ? 0 : 1);
        if (bars > 1)
        {
            yield return "Quality sets more than one of StrongShare, KeepQuality and MaxGain; set one bar.";
        }

        foreach (var (name, value) in new[] { ("StrongShare", StrongShare), ("KeepQuality", KeepQuality) })
        {
            if (value is { } v && !(v is >= 0 and <= 1))
            {
                yield return $"Quality:{name} is {v}; give a share in [0, 1] (0.2 means 20%).";
            }
        }

        if (MaxGain is { } gain && !(gain is >= -1 and <= 1))
        {
            yield return $"Quality:MaxGain is {gain}; give a difference of success rates in [-1, 1].";
        }

        if (!(PriorWeight > 0) || double.IsInfinity(PriorWeight))
        {
            yield return $"Quality:PriorWeight is {PriorWeight}; give a positive number of outcomes (e.g. 4).";
        }

        if (MaxCells < 1 || NeighbourCells < 1 || CalibrationSampleSize < 1)
        {
            yield return $"Quality:MaxCells ({MaxCells}), NeighbourCells ({NeighbourCells}) and CalibrationSampleSize ({CalibrationSampleSize}) must be positive.";
        }

        if (!(CellSimilarity is > -1 and <= 1) || !(MinSimilarity is >= 0 and < 1))
        {
            yield return $"Quality:CellSimilarity is {CellSimilarity} and MinSimilarity {MinSimilarity}; give cosine similarities in (-1, 1] and [0, 1).";
        }
    }
}
