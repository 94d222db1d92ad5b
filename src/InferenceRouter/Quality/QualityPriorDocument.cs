namespace InferenceRouter;

/// <summary>The JSON form of a <see cref="QualityPrior"/> (<c>quality-prior.json</c>).</summary>
internal sealed class QualityPriorDocument
{
    public const string CurrentFormat = "inference-router-quality-prior/1";

    public string? Format { get; set; }

    public string? Source { get; set; }

    public List<string>? Features { get; set; }

    public List<double>? FeatureWeights { get; set; }

    public string? EmbeddingModel { get; set; }

    public List<double>? EmbeddingWeights { get; set; }

    public List<double>? DifficultyQuantiles { get; set; }
}
