namespace InferenceRouter;

/// <summary>Where cache entries live. <see cref="InMemoryCacheStore"/> keeps them in the process; a shared (Redis) store can serve many instances.</summary>
/// <remarks>Implementations must be thread-safe and must raise <see cref="EntryRemoved"/> for every entry they drop (expiry, eviction, replacement), so vector indexes stay in step.</remarks>
public interface ICacheStore
{
    /// <summary>Raised when an entry leaves the store.</summary>
    event Action<CacheEntry>? EntryRemoved;

    /// <summary>Gets the number of entries.</summary>
    int Count { get; }

    /// <summary>Gets a live entry by key (an expired one is removed and not returned).</summary>
    /// <param name="key">The key.</param>
    /// <param name="peek">True to read without counting a use (a semantic candidate being checked); false marks it recently used.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The entry, or null.</returns>
    ValueTask<CacheEntry?> GetAsync(string key, bool peek = false, CancellationToken cancellationToken = default);

    /// <summary>Stores an entry, replacing one with the same key.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when stored.</returns>
    ValueTask SetAsync(CacheEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Removes an entry.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>Whether it was there.</returns>
    ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default);
}
