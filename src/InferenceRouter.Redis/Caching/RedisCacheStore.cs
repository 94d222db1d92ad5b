using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>
/// A semantic-cache store shared by every app instance with the same <see cref="RedisCacheStoreOptions.KeyPrefix"/>: an answer cached by
/// one instance is a hit on the others. Each entry (answer, vector, partition, expiry, learned threshold) is one Redis string that
/// expires with the entry; additions, removals and learned thresholds are announced on a pub/sub channel, so every instance keeps its
/// in-process vector index and its local copy of the entries in step.
/// </summary>
/// <remarks>
/// Reads are served from the local copy (no round trip on a hit); an entry not seen yet is read from Redis. Every Redis operation is
/// bounded by <see cref="RedisCacheStoreOptions.OperationTimeout"/>, and a failure is a miss or an unstored answer, never a failed call.
/// An entry of a call kept on the device (<see cref="CacheEntry.KeepOnDevice"/>, <see cref="CacheKeys.IsKeptOnDevice"/>) stays on this instance:
/// it is never written or announced, and no read or removal of its key reaches Redis.
/// Thread-safe.
/// </remarks>
public sealed class RedisCacheStore : ISharedCacheStore, IDisposable
{
    private readonly IDatabase _database;
    private readonly ISubscriber _subscriber;
    private readonly RedisCacheStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly RedisChannel _channel;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    // The local copy: bounded in entries and heap bytes (least recently used out first), expired entries dropped when met.
    private readonly InMemoryCacheStore _local;
    private readonly RedisChannelListener _listener;

    /// <summary>Creates the store over a connection the app owns (it is not disposed here) and subscribes to the other instances' changes.</summary>
    /// <param name="redis">The connection.</param>
    /// <param name="options">The options; null for defaults.</param>
    /// <param name="timeProvider">The clock.</param>
    public RedisCacheStore(IConnectionMultiplexer redis, RedisCacheStoreOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _options = options ?? new RedisCacheStoreOptions();
        var problems = _options.GetValidationErrors().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        _database = redis.GetDatabase();
        _subscriber = redis.GetSubscriber();
        _time = timeProvider ?? TimeProvider.System;
        _prefix = "{" + _options.EffectiveKeyPrefix + "}";
        _channel = RedisChannel.Literal(_prefix + ":cache-events");
        _local = new InMemoryCacheStore(_options.MaxLocalEntries, _time, _options.MaxLocalBytes);
        _local.EntryRemoved += entry => EntryRemoved?.Invoke(entry);
        _listener = new RedisChannelListener(_subscriber, _channel, OnMessageAsync);
    }

    /// <inheritdoc/>
    public event Action<CacheEntry>? EntryRemoved;

    /// <inheritdoc/>
    public event Action<CacheEntry>? EntryAdded;

    /// <summary>Gets how many entries this instance holds locally.</summary>
    public int Count => _local.Count;

    /// <summary>Gets the heap bytes this instance's local copy holds.</summary>
    internal long LocalBytes => _local.Bytes;

    /// <inheritdoc/>
    public async ValueTask<CacheEntry?> GetAsync(string key, bool peek = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entry = await _local.GetAsync(key, peek, cancellationToken).ConfigureAwait(false); // an expired copy is dropped here
        if (entry is null)
        {
            if (!MayShare(key) || await ReadAsync(key, cancellationToken).ConfigureAwait(false) is not { } shared || shared.ExpiresAt <= _time.GetUtcNow())
            {
                return null;
            }

            entry = await AdoptAsync(shared, announce: true).ConfigureAwait(false);
        }

        if (!peek)
        {
            entry.CountHit();
        }

        return entry;
    }

    /// <inheritdoc/>
    public async ValueTask SetAsync(CacheEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await _local.SetAsync(entry, cancellationToken).ConfigureAwait(false); // replaces (and reports) an older copy; evicts what no longer fits
        await WriteAsync(entry, "+", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void LimitLocalCopy(int maxEntries, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _local.LowerLimits(maxEntries, maxBytes);
    }

    /// <inheritdoc/>
    public ValueTask UpdateAsync(CacheEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return MayShare(entry.Key) ? WriteAsync(entry, "~", cancellationToken) : default;
    }

    /// <inheritdoc/>
    public async ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        bool removed = await _local.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        if (!MayShare(key))
        {
            return removed;
        }

        try
        {
            removed |= await _database.KeyDeleteAsync(EntryKey(key)).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            await _subscriber.PublishAsync(_channel, $"-|{_instance}|{key}").WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or RedisException)
        {
            // Removed here; the others keep it until it expires.
        }

        return removed;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<CacheEntry> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // The server that owns the prefix's hash slot: on a Cluster, the one shard that holds every entry.
        IServer server;
        try
        {
            server = _database.Multiplexer.GetServer(EntryKey(string.Empty));
        }
        catch (RedisException)
        {
            yield break;
        }

        if (!server.IsConnected)
        {
            yield break;
        }

        await foreach (var key in server.KeysAsync(_database.Database, _prefix + ":c:*", pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            string cacheKey = ((string)key!)[(_prefix.Length + 3)..];
            if (await _local.GetAsync(cacheKey, peek: true, cancellationToken).ConfigureAwait(false) is null &&
                await ReadAsync(cacheKey, cancellationToken).ConfigureAwait(false) is { } entry &&
                await AdoptAsync(entry, announce: false).ConfigureAwait(false) is var adopted &&
                ReferenceEquals(await _local.GetAsync(cacheKey, peek: true, cancellationToken).ConfigureAwait(false), adopted))
            {
                yield return adopted; // only what the local copy kept (an entry too large for it stays in Redis only)
            }
        }
    }

    /// <summary>Gets a task that completes once this store follows the other instances' changes (it subscribes in the background).</summary>
    internal Task Subscribed => _listener.Subscribed;

    /// <summary>Stops following the other instances' changes.</summary>
    public void Dispose() => _listener.Dispose();

    private async Task OnMessageAsync(ChannelMessage message)
    {
        var parts = ((string)message.Message!).Split('|', 3);
        if (parts.Length != 3 || parts[1] == _instance)
        {
            return;
        }

        switch (parts[0])
        {
            case "-":
                await _local.RemoveAsync(parts[2]).ConfigureAwait(false);
                break;
            case "+":
            case "~":
                if (await ReadAsync(parts[2], CancellationToken.None).ConfigureAwait(false) is { } entry)
                {
                    if (parts[0] == "~" && await _local.GetAsync(parts[2], peek: true).ConfigureAwait(false) is { } known)
                    {
                        known.RequireAtLeast(entry.LearnedMinSimilarity);  // learned state joins the copy the index already holds
                    }
                    else
                    {
                        await AdoptAsync(entry, announce: true).ConfigureAwait(false);
                    }
                }

                break;
        }
    }

    /// <summary>Makes <paramref name="entry"/> this instance's copy (replacing an older one) and, when asked, tells the index.</summary>
    private async ValueTask<CacheEntry> AdoptAsync(CacheEntry entry, bool announce)
    {
        if (await _local.GetAsync(entry.Key, peek: true).ConfigureAwait(false) is { } previous && previous.CreatedAt >= entry.CreatedAt)
        {
            previous.RequireAtLeast(entry.LearnedMinSimilarity);
            return previous;
        }

        if (announce)
        {
            // Announced first, so that if the local copy cannot keep it (too large, or evicted at once) its removal finds the vector to drop.
            EntryAdded?.Invoke(entry);
        }

        await _local.SetAsync(entry).ConfigureAwait(false);
        return entry;
    }

    /// <summary>Whether an operation on <paramref name="key"/> may reach Redis: never for a call kept on the device (its key is a fingerprint of the prompt).</summary>
    private static bool MayShare(string key) => EgressGate.Allows(CacheKeys.IsKeptOnDevice(key), destinationOnDevice: false);

    private async ValueTask WriteAsync(CacheEntry entry, string change, CancellationToken cancellationToken)
    {
        var ttl = entry.ExpiresAt - _time.GetUtcNow();
        if (ttl <= TimeSpan.Zero || !MayShare(entry.Key) || !EgressGate.Allows(entry.KeepOnDevice, destinationOnDevice: false))
        {
            return;  // a call kept on the device: its question and answer stay on this instance
        }

        try
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(RedisCacheEntryDocument.From(entry), RedisJsonContext.Default.RedisCacheEntryDocument);
            await _database.StringSetAsync(EntryKey(entry.Key), json, ttl).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            await _subscriber.PublishAsync(_channel, $"{change}|{_instance}|{entry.Key}").WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or RedisException)
        {
            // Not shared: this instance still has it; the others ask the model themselves.
        }
    }

    private async ValueTask<CacheEntry?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var value = await _database.StringGetAsync(EntryKey(key)).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            return value.IsNull ? null : JsonSerializer.Deserialize((byte[])value!, RedisJsonContext.Default.RedisCacheEntryDocument)?.ToEntry();
        }
        catch (Exception e) when (e is TimeoutException or RedisException or JsonException or ArgumentException)
        {
            return null;  // unreachable or unreadable: a miss
        }
    }

    private RedisKey EntryKey(string key) => _prefix + ":c:" + key;
}

/// <summary>The JSON form of a <see cref="CacheEntry"/> in Redis: all of its state, the vector as little-endian float32 (base64).</summary>
internal sealed class RedisCacheEntryDocument
{
    public string? Key { get; set; }

    public string? Partition { get; set; }

    public string? Prompt { get; set; }

    public byte[]? Vector { get; set; }

    public List<CachedMessage>? Messages { get; set; }

    public string? ModelId { get; set; }

    public string? FinishReason { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public string? Route { get; set; }

    public string? RouteModelId { get; set; }

    public double LearnedMinSimilarity { get; set; }

    public static RedisCacheEntryDocument From(CacheEntry entry) => new()
    {
        Key = entry.Key,
        Partition = entry.Partition,
        Prompt = entry.Prompt,
        Vector = entry.Vector is { } vector ? MemoryMarshal.AsBytes(vector.Span).ToArray() : null,
        Messages = [.. entry.Response.Messages],
        ModelId = entry.Response.ModelId,
        FinishReason = entry.Response.FinishReason,
        InputTokens = entry.Response.InputTokens,
        OutputTokens = entry.Response.OutputTokens,
        CreatedAt = entry.CreatedAt,
        ExpiresAt = entry.ExpiresAt,
        Route = entry.Route,
        RouteModelId = entry.RouteModelId,
        LearnedMinSimilarity = entry.LearnedMinSimilarity,
    };

    public CacheEntry ToEntry()
    {
        if (Key is null || Partition is null || Prompt is null || Messages is null || (Vector is not null && Vector.Length % sizeof(float) != 0))
        {
            throw new ArgumentException("A cached entry in Redis is missing parts.");
        }

        ReadOnlyMemory<float>? vector = Vector is null ? null : MemoryMarshal.Cast<byte, float>(Vector).ToArray();
        var entry = new CacheEntry(Key, Partition, Prompt, vector, new CachedChatResponse(Messages, ModelId, FinishReason, InputTokens, OutputTokens), CreatedAt, ExpiresAt, Route, RouteModelId);
        entry.RequireAtLeast(LearnedMinSimilarity);
        return entry;
    }
}
