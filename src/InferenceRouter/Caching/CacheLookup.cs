namespace InferenceRouter;

/// <summary>The outcome of looking a request up: the entry that answers it (if any), and the question's embedding to store with a miss.</summary>
internal readonly record struct CacheLookup(CacheEntry? Hit, CacheTier Tier, double? Similarity, float[]? Vector, bool Storable);
