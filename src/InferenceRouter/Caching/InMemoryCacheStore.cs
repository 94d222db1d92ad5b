namespace InferenceRouter;

/// <summary>An in-process <see cref="ICacheStore"/>: at most <see cref="MaxEntries"/> entries, least recently used evicted first, expired ones dropped when met.</summary>
/// <remarks>Thread-safe (one short lock around a dictionary and a linked list). Memory: the entry, its question and answer text, and its vector (4 bytes per dimension).</remarks>
public sealed class InMemoryCacheStore : ICacheStore
{
    private readonly Dictionary<string, LinkedListNode<CacheEntry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CacheEntry> _recency = new();
    private readonly TimeProvider _time;

    /// <summary>Creates a store.</summary>
    /// <param name="maxEntries">The most entries kept.</param>
    /// <param name="timeProvider">The clock for expiry; <see cref="TimeProvider.System"/> by default.</param>
    public InMemoryCacheStore(int maxEntries = 10_000, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        MaxEntries = maxEntries;
        _time = timeProvider ?? TimeProvider.System;
    }

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

            _entries[entry.Key] = _recency.AddFirst(entry);
            while (_entries.Count > MaxEntries)
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
