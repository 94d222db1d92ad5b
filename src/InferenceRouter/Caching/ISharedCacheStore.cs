namespace InferenceRouter;

/// <summary>
/// A cache store shared by several app instances (e.g. on Redis). Besides <see cref="ICacheStore"/>, it says when another instance
/// stored an entry, lists what is stored (to fill a new instance's vector index), and writes back an entry's learned state.
/// </summary>
/// <remarks>
/// <see cref="SemanticCacheChatClient"/> keeps its in-process vector index in step: it loads <see cref="ReadAllAsync"/> at start, adds what
/// <see cref="EntryAdded"/> reports and drops what <see cref="ICacheStore.EntryRemoved"/> reports. Events must pass the same
/// <see cref="CacheEntry"/> instance for an entry's addition and its removal. Implementations must be thread-safe and must never fail a
/// call: an unreachable store reads as a miss.
/// </remarks>
public interface ISharedCacheStore : ICacheStore
{
    /// <summary>Raised when an entry stored elsewhere (another instance) becomes visible here.</summary>
    event Action<CacheEntry>? EntryAdded;

    /// <summary>Lists every stored entry (for a new instance's index).</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The entries.</returns>
    IAsyncEnumerable<CacheEntry> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes back an entry's learned state (<see cref="CacheEntry.LearnedMinSimilarity"/>) so every instance sees it.</summary>
    /// <param name="entry">The entry, changed in place.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write was sent.</returns>
    ValueTask UpdateAsync(CacheEntry entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Bounds the entries this instance keeps locally (with their vectors in its index) to at most <paramref name="maxEntries"/> and
    /// <paramref name="maxBytes"/> heap bytes (<see cref="CacheEntry.EstimatedBytes"/>), evicting the least recently used; the store's own
    /// limits still apply (the lower wins). <see cref="SemanticCacheChatClient"/> calls it with its <see cref="SemanticCacheOptions.MaxEntries"/>
    /// and <see cref="SemanticCacheOptions.MaxBytes"/>. Entries evicted here stay shared: they are read back when asked for.
    /// </summary>
    /// <param name="maxEntries">The most entries kept locally.</param>
    /// <param name="maxBytes">The most heap bytes kept locally.</param>
    void LimitLocalCopy(int maxEntries, long maxBytes);
}
