namespace InferenceRouter;

/// <summary>One cached answer: its key, its partition (everything besides the last question that shapes the answer), the question, its embedding and the answer.</summary>
public sealed class CacheEntry
{
    private int _hits;
    private long _minSimilarityBits = BitConverter.DoubleToInt64Bits(0);

    /// <summary>Creates an entry.</summary>
    /// <param name="key">The exact-tier key (partition and the question as sent).</param>
    /// <param name="partition">The partition key.</param>
    /// <param name="prompt">The last user message as sent (Unicode NFC).</param>
    /// <param name="vector">Its embedding (L2-normalised), or null for exact-only entries.</param>
    /// <param name="response">The answer.</param>
    /// <param name="createdAt">When it was stored.</param>
    /// <param name="expiresAt">When it expires.</param>
    /// <param name="route">The route that answered (null when the cache is not in front of a router).</param>
    /// <param name="routeModelId">That route's configured model id.</param>
    public CacheEntry(string key, string partition, string prompt, ReadOnlyMemory<float>? vector, CachedChatResponse response, DateTimeOffset createdAt, DateTimeOffset expiresAt, string? route = null, string? routeModelId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(partition);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(response);
        Key = key;
        Partition = partition;
        Prompt = prompt;
        Vector = vector;
        Response = response;
        CreatedAt = createdAt;
        ExpiresAt = expiresAt;
        Route = route;
        RouteModelId = routeModelId;
        EstimatedBytes = HeapBytesOf(key, partition, prompt, vector?.Length ?? 0, response, route, routeModelId);
    }

    /// <summary>This object's fields (three texts, a vector, the answer, two times, the route, counters) with its header.</summary>
    private const int EntryObjectBytes = 152;

    /// <summary>The answer's record (three references, two counts) and its message list (without the array).</summary>
    private const int ResponseObjectsBytes = 72 + 32;

    /// <summary>A (role, text) message record.</summary>
    private const int MessageObjectBytes = 32;

    /// <summary>
    /// Returns what an entry holds on the heap: its objects, every string, its vector and that vector's place in a partition's index
    /// (<see cref="VectorIndex.BytesPerEntry"/>). A string shared with others is counted anyway: the bound errs on the side of less memory.
    /// </summary>
    private static long HeapBytesOf(string key, string partition, string prompt, int dimensions, CachedChatResponse response, string? route, string? routeModelId)
    {
        long bytes = EntryObjectBytes + HeapBytes.String(key) + HeapBytes.String(partition) + HeapBytes.String(prompt) + HeapBytes.String(route) +
            HeapBytes.String(routeModelId) + ResponseObjectsBytes + HeapBytes.String(response.ModelId) + HeapBytes.String(response.FinishReason) +
            HeapBytes.Array(response.Messages.Count, HeapBytes.Reference);
        foreach (var message in response.Messages)
        {
            bytes += MessageObjectBytes + HeapBytes.String(message.Role) + HeapBytes.String(message.Text);
        }

        return dimensions == 0 ? bytes : bytes + HeapBytes.Array(dimensions, sizeof(float)) + VectorIndex.BytesPerEntry(dimensions);
    }

    /// <summary>Gets the exact-tier key.</summary>
    public string Key { get; }

    /// <summary>Gets the partition key.</summary>
    public string Partition { get; }

    /// <summary>Gets the question as sent (Unicode NFC).</summary>
    public string Prompt { get; }

    /// <summary>Gets the question's embedding, or null.</summary>
    public ReadOnlyMemory<float>? Vector { get; }

    /// <summary>Gets the answer.</summary>
    public CachedChatResponse Response { get; }

    /// <summary>Gets when it was stored.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets when it expires.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Gets the route that answered; a hit is served only while that route (or one serving the same model) is what the request would get.</summary>
    public string? Route { get; }

    /// <summary>Gets the answering route's configured model id.</summary>
    public string? RouteModelId { get; }

    /// <summary>
    /// Gets a value indicating whether the call was kept on the device (<c>KeepOnDevice()</c>): a store shared with other machines
    /// (<see cref="ISharedCacheStore"/>) keeps such an entry on this instance only, so its question and answer never leave it.
    /// </summary>
    public bool KeepOnDevice { get; init; }

    /// <summary>
    /// Gets the heap bytes the entry holds — its objects and strings, its vector and that vector's place in a vector index — which stores
    /// bound (<see cref="SemanticCacheOptions.MaxBytes"/>). Counted from the 64-bit runtime's object layout and checked against the real heap.
    /// </summary>
    public long EstimatedBytes { get; }

    /// <summary>Gets how many times it answered.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Gets the similarity this entry has learned to require (from answers reported unhelpful); 0 until then.</summary>
    public double LearnedMinSimilarity => BitConverter.Int64BitsToDouble(Volatile.Read(ref _minSimilarityBits));

    /// <summary>Counts one more hit on this entry (a store calls it when a read that is not a peek serves the entry). Thread-safe.</summary>
    public void CountHit() => Interlocked.Increment(ref _hits);

    /// <summary>Raises the similarity this entry requires to at least <paramref name="similarity"/> (never lowers it).</summary>
    /// <param name="similarity">The least similarity a semantic hit on this entry needs from now on; lower values change nothing.</param>
    /// <remarks>Shared stores call it to merge what another instance learned; it only ever raises the threshold. Thread-safe.</remarks>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public void RequireAtLeast(double similarity)
    {
        long current = Volatile.Read(ref _minSimilarityBits);
        while (BitConverter.Int64BitsToDouble(current) < similarity)
        {
            long seen = Interlocked.CompareExchange(ref _minSimilarityBits, BitConverter.DoubleToInt64Bits(similarity), current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
