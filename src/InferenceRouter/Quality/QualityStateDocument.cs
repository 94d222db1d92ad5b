namespace InferenceRouter;

/// <summary>The JSON form of what a <see cref="QualityPredictor"/> learned: its cells, tier totals and calibration sample.</summary>
internal sealed class QualityStateDocument
{
    public const string CurrentFormat = "inference-router-quality-state/1";

    public string? Format { get; set; }

    public string? EmbeddingModel { get; set; }

    public int Dimensions { get; set; }

    public int TierCount { get; set; }

    public long Outcomes { get; set; }

    public List<double>? TierCounts { get; set; }

    public List<double>? TierSums { get; set; }

    public List<QualityCellDocument>? Cells { get; set; }

    public List<QualitySampleDocument>? Calibration { get; set; }

    /// <summary>The app's difficulty model: outcomes learned, and XᵀX (packed lower triangle) and Xᵀy as little-endian float64, base64.</summary>
    public long LearnedOutcomes { get; set; }

    public byte[]? LearnedGram { get; set; }

    public byte[]? LearnedMoments { get; set; }

    /// <summary>The weights in use (fitted at <see cref="LearnedAt"/> outcomes), as little-endian float32, base64.</summary>
    public byte[]? LearnedWeights { get; set; }

    public long LearnedAt { get; set; }

    /// <summary>The calibration in use (the bar's threshold and the mean difficulty it centres on), made at <see cref="CalibratedAt"/> outcomes.</summary>
    public double? Threshold { get; set; }

    public double? MeanDifficulty { get; set; }

    public long CalibratedAt { get; set; }
}

/// <summary>One saved cell: its centroid (little-endian float32, base64) and per-tier outcome counts, score sums and prior difficulty sums.</summary>
internal sealed class QualityCellDocument
{
    public byte[]? Centroid { get; set; }

    public List<double>? Counts { get; set; }

    public List<double>? Sums { get; set; }

    public List<double>? Difficulties { get; set; }
}

/// <summary>One saved calibration prompt: its text features and vector (little-endian float32, base64).</summary>
internal sealed class QualitySampleDocument
{
    public byte[]? Features { get; set; }

    public byte[]? Vector { get; set; }
}
