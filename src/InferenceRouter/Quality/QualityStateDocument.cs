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
}

/// <summary>One saved cell: its centroid (little-endian float32, base64) and per-tier outcome counts, score sums and prior difficulty sums.</summary>
internal sealed class QualityCellDocument
{
    public byte[]? Centroid { get; set; }

    public List<double>? Counts { get; set; }

    public List<double>? Sums { get; set; }

    public List<double>? Difficulties { get; set; }
}

/// <summary>One saved calibration prompt: its prior difficulty and vector.</summary>
internal sealed class QualitySampleDocument
{
    public double Difficulty { get; set; }

    public byte[]? Vector { get; set; }
}
