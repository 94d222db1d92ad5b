namespace InferenceRouter;

/// <summary>The nearest stored question to a query and how far ahead of the next one it is.</summary>
/// <param name="Key">The entry's key.</param>
/// <param name="Similarity">Cosine similarity to the query.</param>
/// <param name="RunnerUpSimilarity">The next entry's similarity, or null when there is none.</param>
internal readonly record struct VectorMatch(string Key, float Similarity, float? RunnerUpSimilarity);
