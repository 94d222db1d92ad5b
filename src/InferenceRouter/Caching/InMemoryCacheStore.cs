namespace InferenceRouter;

/// <summary>
/// An in-process <see cref="ICacheStore"/>: at most <see cref="MaxEntries"/> entries and <see cref="MaxBytes"/> heap bytes
/// (<see cref="CacheEntry.EstimatedBytes"/> plus this store's own bookkeeping per entry), least recently used evicted first, expired ones
/// dropped when met.
/// </summary>
/// <remarks>Thread-safe (one short lock around a dictionary and a linked list). An entry larger than <see cref="MaxBytes"/> is not kept.</remarks>
public sealed class InMemoryCacheStore : ICacheStore
{
    private readonly Dictionary<string, LinkedListNode<CacheEntry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CacheEntry> _recency = new();
    private readonly TimeProvider _time;
    private long _bytes;

    /// <summary>Creates a store.</summary>
    /// <param name="maxEntries">The most entries kept.</param>
    /// <param name="timeProvider">The clock for expiry; <see cref="TimeProvider.System"/> by default.</param>
    /// <param name="maxBytes">The most bytes kept (<see cref="CacheEntry.EstimatedBytes"/> summed); 256 MiB by default.</param>
    public InMemoryCacheStore(int maxEntries = 10_000, TimeProvider? timeProvider = null, long maxBytes = SemanticCacheOptions.DefaultMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the most bytes kept.</summary>
    public long MaxBytes { get; private set; }

    /// <summary>Gets the heap bytes held now: <see cref="CacheEntry.EstimatedBytes"/> and this store's bookkeeping, summed over the entries.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>An entry's place here: its linked-list node and its dictionary entry and bucket (twice: the dictionary grows by doubling).</summary>
    internal const int BookkeepingBytes = 48 + (2 * (24 + sizeof(int)));

    /// <inheritdoc/>
    public event Action<CacheEntry>? EntryRemoved;

    /// <summary>Gets the most entries kept.</summary>
    public int MaxEntries { get; private set; }

    /// <inheritdoc/>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<CacheEntry?> GetAsync(string key, bool peek = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        CacheEntry? expired = null;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return default;
            }

            if (node.Value.ExpiresAt <= _time.GetUtcNow())
            {
                Unlink(node);
                expired = node.Value;
            }
            else
            {
                if (!peek)
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                }

                return new(node.Value);
            }
        }

        EntryRemoved?.Invoke(expired);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask SetAsync(CacheEntry entry, CancellationToken cancellationToken = default)
    {
        Set(entry);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default) => new(Remove(key));

    private void Set(CacheEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        List<CacheEntry>? removed = null;
        lock (_entries)
        {
            if (_entries.TryGetValue(entry.Key, out var existing))
            {
                Unlink(existing);
                (removed ??= []).Add(existing.Value);
            }

            if (Cost(entry) > MaxBytes)
            {
                // Too large to keep: it leaves at once, so its indexes forget it too.
                (removed ??= []).Add(entry);
            }
            else
            {
                _entries[entry.Key] = _recency.AddFirst(entry);
                _bytes += Cost(entry);
            }

            EvictOverLimits(ref removed);
        }

        Raise(removed);
    }

    /// <summary>Lowers the limits (a higher value changes nothing) and evicts what no longer fits, least recently used first.</summary>
    /// <remarks>A shared store's local copy uses it to apply the limits of the cache it serves (<see cref="ISharedCacheStore.LimitLocalCopy"/>).</remarks>
    /// <param name="maxEntries">The most entries kept from now on.</param>
    /// <param name="maxBytes">The most heap bytes kept from now on.</param>
    public void LowerLimits(int maxEntries, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        List<CacheEntry>? removed = null;
        lock (_entries)
        {
            MaxEntries = Math.Min(MaxEntries, maxEntries);
            MaxBytes = Math.Min(MaxBytes, maxBytes);
            EvictOverLimits(ref removed);
        }

        Raise(removed);
    }

    private static long Cost(CacheEntry entry) => entry.EstimatedBytes + BookkeepingBytes;

    private void EvictOverLimits(ref List<CacheEntry>? removed)
    {
        while (_entries.Count > MaxEntries || _bytes > MaxBytes)
        {
            var last = _recency.Last!;
            Unlink(last);
            (removed ??= []).Add(last.Value);
        }
    }

    private bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        CacheEntry removed;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return false;
            }

            Unlink(node);
            removed = node.Value;
        }

        EntryRemoved?.Invoke(removed);
        return true;
    }

    /// <summary>Drops every expired entry now (entries are otherwise dropped when met or evicted).</summary>
    /// <returns>How many were dropped.</returns>
    public int RemoveExpired()
    {
        List<CacheEntry>? removed = null;
        var now = _time.GetUtcNow();
        lock (_entries)
        {
            for (var node = _recency.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.ExpiresAt <= now)
                {
                    Unlink(node);
                    (removed ??= []).Add(node.Value);
                }

                node = next;
            }
        }

        Raise(removed);
        return removed?.Count ?? 0;
    }

    private void Unlink(LinkedListNode<CacheEntry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= Cost(node.Value);
    }

    private void Raise(List<CacheEntry>? removed)
    {
        if (removed is null || EntryRemoved is not { } handler)
        {
            return;
        }

        foreach (var entry in removed)
        {
            handler(entry);
        }
    }
}
