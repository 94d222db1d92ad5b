namespace InferenceRouter;

/// <summary>
/// An in-process <see cref="ICacheStore"/>: at most <see cref="MaxEntries"/> entries and <see cref="MaxBytes"/> bytes
/// (<see cref="CacheEntry.EstimatedBytes"/>: text, vector and index slot), least recently used evicted first, expired ones dropped when met.
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
    public long MaxBytes { get; }

    /// <summary>Gets the bytes held now (<see cref="CacheEntry.EstimatedBytes"/> summed).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <inheritdoc/>
    public event Action<CacheEntry>? EntryRemoved;

    /// <summary>Gets the most entries kept.</summary>
    public int MaxEntries { get; }

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
        ArgumentNullException.ThrowIfNull(entry);
        List<CacheEntry>? removed = null;
        lock (_entries)
        {
            if (_entries.TryGetValue(entry.Key, out var existing))
            {
                Unlink(existing);
                (removed ??= []).Add(existing.Value);
            }

            if (entry.EstimatedBytes > MaxBytes)
            {
                // Too large to keep: it leaves at once, so its indexes forget it too.
                (removed ??= []).Add(entry);
            }
            else
            {
                _entries[entry.Key] = _recency.AddFirst(entry);
                _bytes += entry.EstimatedBytes;
            }

            while (_entries.Count > MaxEntries || _bytes > MaxBytes)
            {
                var last = _recency.Last!;
                Unlink(last);
                (removed ??= []).Add(last.Value);
            }
        }

        Raise(removed);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        CacheEntry removed;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return new(false);
            }

            Unlink(node);
            removed = node.Value;
        }

        EntryRemoved?.Invoke(removed);
        return new(true);
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
        _bytes -= node.Value.EstimatedBytes;
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
