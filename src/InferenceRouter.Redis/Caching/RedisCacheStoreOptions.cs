namespace InferenceRouter;

/// <summary>Options for <see cref="RedisCacheStore"/>.</summary>
public sealed class RedisCacheStoreOptions
{
    /// <summary>
    /// Gets or sets the prefix of every key and of the change channel (the keys' hash tag). Instances that share a cache use the same one.
    /// Default: under <c>UseRedis()</c>, the ledger's prefix (the app's name unless set); for a store made in code, <c>inference-router</c>.
    /// </summary>
    public string? KeyPrefix { get; set; }

    internal string EffectiveKeyPrefix => KeyPrefix ?? "inference-router";

    /// <summary>Gets or sets the longest a cache read or write may wait for Redis (then it is a miss, or the answer is not shared). Default: 200 ms.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets or sets how many entries an instance keeps locally (with their vectors in its index); the least recently used go first, and
    /// stay in Redis. The cache's own <see cref="SemanticCacheOptions.MaxEntries"/> also applies (the lower wins). Default: 100,000.
    /// </summary>
    public int MaxLocalEntries { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets the most heap bytes an instance's local copy holds (<see cref="CacheEntry.EstimatedBytes"/>: entries, vectors and index
    /// slots); the cache's own <see cref="SemanticCacheOptions.MaxBytes"/> also applies (the lower wins). Default: 256 MiB.
    /// </summary>
    public long MaxLocalBytes { get; set; } = SemanticCacheOptions.DefaultMaxBytes;

    /// <summary>Lists what is wrong with these options, each with how to fix it.</summary>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors()
    {
        if (RedisKeyPrefix.Problem(EffectiveKeyPrefix) is { } problem)
        {
            yield return problem;
        }

        if (OperationTimeout <= TimeSpan.Zero)
        {
            yield return $"OperationTimeout is {OperationTimeout}; give a positive time (e.g. 00:00:00.200).";
        }

        if (MaxLocalEntries < 1)
        {
            yield return $"MaxLocalEntries is {MaxLocalEntries}; keep at least 1 (e.g. 100000).";
        }

        if (MaxLocalBytes < 64 * 1024)
        {
            yield return $"MaxLocalBytes is {MaxLocalBytes}; allow at least 65536 bytes (e.g. 268435456 for 256 MiB).";
        }
    }
}
