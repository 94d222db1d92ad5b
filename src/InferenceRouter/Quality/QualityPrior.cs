using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// What the quality predictor believes before an app has recorded any outcome: a linear model of how likely the cheapest tier is to
/// get a prompt wrong (its <em>difficulty</em>), from cheap text features (<see cref="PromptFeatures"/>) and, when the embedding model
/// is the one it was trained with, the prompt's embedding.
/// </summary>
/// <remarks>
/// <see cref="Default"/> ships with the package: trained on RouteLLM's labelled MMLU subjects (Mixtral-8x7B weak, GPT-4 strong;
/// RouteLLM data Apache-2.0, MMLU questions MIT). Immutable and thread-safe.
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed class QualityPrior
{
    private const string ResourceName = "InferenceRouter.Quality.quality-prior.json";
    private static readonly Lazy<QualityPrior> s_default = new(LoadDefault);
    private readonly float[] _featureWeights;
    private readonly float[]? _embeddingWeights;
    private readonly double[] _quantiles;

    private QualityPrior(QualityPriorDocument document, string origin)
    {
        if (document.Format != QualityPriorDocument.CurrentFormat)
        {
            throw new InvalidDataException($"{origin} has format '{document.Format}'; this version reads '{QualityPriorDocument.CurrentFormat}'.");
        }

        if (document.Features is null || !document.Features.SequenceEqual(PromptFeatures.Names) || document.FeatureWeights?.Count != PromptFeatures.Count)
        {
            throw new InvalidDataException($"{origin} was trained on other prompt features ({string.Join(", ", document.Features ?? [])}); this version computes {string.Join(", ", PromptFeatures.Names)}. Retrain it with 'eval routing-prior'.");
        }

        if (document.DifficultyQuantiles is not { Count: >= 2 } quantiles || quantiles.Zip(quantiles.Skip(1)).Any(p => !(p.First <= p.Second)))
        {
            throw new InvalidDataException($"{origin} needs at least two ascending difficulty quantiles.");
        }

        if ((document.EmbeddingModel is null) != (document.EmbeddingWeights is null))
        {
            throw new InvalidDataException($"{origin} must give both embeddingModel and embeddingWeights, or neither.");
        }

        _featureWeights = [.. document.FeatureWeights.Select(w => (float)w)];
        _embeddingWeights = document.EmbeddingWeights?.Select(w => (float)w).ToArray();
        _quantiles = [.. quantiles];
        EmbeddingModel = document.EmbeddingModel;
        Source = document.Source;
        MeanDifficulty = _quantiles.Average();
    }

    /// <summary>Gets the prior that ships with the package.</summary>
    public static QualityPrior Default => s_default.Value;

    /// <summary>Gets the embedding model whose vectors the prior can also read (e.g. <c>all-MiniLM-L6-v2</c>), or null for text features only.</summary>
    public string? EmbeddingModel { get; }

    /// <summary>Gets where the prior was trained, as its file says.</summary>
    public string? Source { get; }

    /// <summary>Gets the embedding dimensions the prior reads, or 0.</summary>
    public int EmbeddingDimensions => _embeddingWeights?.Length ?? 0;

    /// <summary>Gets the mean difficulty over the prompts it was trained on (the centre its predictions move around).</summary>
    public double MeanDifficulty { get; }

    /// <summary>Gets the difficulty quantiles over the training prompts (used to calibrate a bar before any outcome is recorded).</summary>
    internal ReadOnlySpan<double> Quantiles => _quantiles;

    /// <summary>Reads a prior from its JSON form.</summary>
    /// <param name="stream">The JSON.</param>
    /// <returns>The prior.</returns>
    /// <exception cref="InvalidDataException">The JSON is not a prior this version can read; the message says why.</exception>
    public static QualityPrior Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Load(stream, "The quality prior");
    }

    /// <summary>Predicts how likely the cheapest tier is to get the prompt wrong, in [0, 1].</summary>
    /// <param name="prompt">The prompt's text.</param>
    /// <param name="embedding">Its embedding from <see cref="EmbeddingModel"/>, or empty (then text features only).</param>
    /// <returns>The difficulty.</returns>
    public double PredictDifficulty(ReadOnlySpan<char> prompt, ReadOnlySpan<float> embedding = default)
    {
        Span<float> features = stackalloc float[PromptFeatures.Count];
        PromptFeatures.Extract(prompt, features);
        return PredictDifficulty(features, embedding);
    }

    /// <summary>The difficulty from features already extracted.</summary>
    internal double PredictDifficulty(ReadOnlySpan<float> features, ReadOnlySpan<float> embedding)
    {
        double difficulty = System.Numerics.Tensors.TensorPrimitives.Dot<float>(features, _featureWeights);
        if (_embeddingWeights is not null && embedding.Length == _embeddingWeights.Length)
        {
            difficulty += System.Numerics.Tensors.TensorPrimitives.Dot(embedding, _embeddingWeights);
        }

        return Math.Clamp(difficulty, 0, 1);
    }

    /// <summary>The prior's weights over text features then <paramref name="dimensions"/> embedding values (zero where it cannot read them), where the app's own model starts.</summary>
    internal float[] StartingWeights(int dimensions, bool readsEmbedding)
    {
        var weights = new float[PromptFeatures.Count + dimensions];
        _featureWeights.CopyTo(weights, 0);
        if (readsEmbedding && _embeddingWeights is not null && _embeddingWeights.Length == dimensions)
        {
            _embeddingWeights.CopyTo(weights, PromptFeatures.Count);
        }

        return weights;
    }

    internal static QualityPrior Load(Stream stream, string origin)
    {
        QualityPriorDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(stream, QualityJsonContext.Default.QualityPriorDocument);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{origin} is not valid JSON: {e.Message}", e);
        }

        return new QualityPrior(document ?? throw new InvalidDataException($"{origin} is empty."), origin);
    }

    private static QualityPrior LoadDefault()
    {
        using var stream = typeof(QualityPrior).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the InferenceRouter assembly.");
        return Load(stream, "The embedded quality prior");
    }
}
