namespace InferenceRouter;

/// <summary>How the router produced a response: the route that answered, every attempt, whether hedging started extra attempts.</summary>
/// <remarks>Read it with <see cref="RoutingInfoExtensions.GetRoutingInfo(Microsoft.Extensions.AI.ChatResponse)"/>; for streams it rides on the last update.</remarks>
public sealed class RoutingInfo
{
    internal RoutingInfo(ChatRoute route, string? modelId, IReadOnlyList<RouteAttempt> attempts, bool hedged, TimeSpan? timeToFirstToken, bool isFallback = false, IReadOnlyList<RouteExclusion>? skipped = null, bool keptOnDevice = false)
    {
        KeptOnDevice = keptOnDevice;
        Skipped = skipped ?? [];
        IsFallback = isFallback;
        RouteModelId = route.Descriptor.ModelId;
        Route = route.Name;
        Provider = route.ProviderName;
        ModelId = modelId ?? route.Descriptor.ModelId;
        IsLocal = route.Descriptor.IsLocal;
        QualityTier = route.Descriptor.QualityTier;
        Attempts = attempts;
        Hedged = hedged;
        TimeToFirstToken = timeToFirstToken;
    }

    private RoutingInfo(CacheTier tier, double? similarity, string? modelId, string cacheKey, bool keptOnDevice)
    {
        KeptOnDevice = keptOnDevice;
        CacheKey = cacheKey;
        Route = "cache";
        Provider = "cache";
        ModelId = modelId;
        Attempts = [];
        Skipped = [];
        CacheHit = tier;
        Similarity = similarity;
    }

    /// <summary>
    /// Gets a value indicating whether the call was kept on the device (<c>KeepOnDevice()</c>), cache hits included: what is learned from
    /// it (a quality outcome recorded with this response) is never embedded off the device nor shared with other instances.
    /// </summary>
    public bool KeptOnDevice { get; }

    /// <summary>Gets which cache tier answered, or <see langword="null"/> when a route did (no route was called on a hit).</summary>
    public CacheTier? CacheHit { get; }

    /// <summary>Gets the cosine similarity of the prompt to the cached one, for semantic hits.</summary>
    public double? Similarity { get; }

    /// <summary>Gets the key of the cache entry that answered (for <see cref="SemanticCacheChatClient.ReportOutcomeAsync"/>).</summary>
    internal string? CacheKey { get; }

    /// <summary>
    /// Gets a value indicating whether the answer came from a fallback the caller did not ask for: not the call's first candidate (failover,
    /// a budget downgrade, a hedge that won) or the local route because the app looked offline. The semantic cache does not store these by default.
    /// </summary>
    public bool IsFallback { get; }

    /// <summary>Gets the answering route's configured model id (the one the router sends), as opposed to <see cref="ModelId"/>, the one reported.</summary>
    public string? RouteModelId { get; }

    /// <summary>Gets the name of the route that answered.</summary>
    public string Route { get; }

    /// <summary>Gets the provider's name.</summary>
    public string Provider { get; }

    /// <summary>Gets the model that answered, as the provider reported it (else the route's model id).</summary>
    public string? ModelId { get; }

    /// <summary>Gets a value indicating whether the answering route runs on this device.</summary>
    public bool IsLocal { get; }

    /// <summary>Gets the quality tier of the route that answered (<see cref="RouteDescriptor.QualityTier"/>), for recording outcomes.</summary>
    public int? QualityTier { get; }

    /// <summary>Gets every attempt, in the order they started; the last successful one answered.</summary>
    public IReadOnlyList<RouteAttempt> Attempts { get; }

    /// <summary>Gets the number of attempts that started (skipped routes excluded).</summary>
    public int AttemptCount
    {
        get
        {
            int count = 0;
            foreach (var attempt in Attempts)
            {
                count += attempt.Outcome == RouteAttemptOutcome.Skipped ? 0 : 1;
            }

            return count;
        }
    }

    /// <summary>Gets the routes skipped before any attempt for their health: asked to wait (Retry-After), circuit open, drained.</summary>
    public IReadOnlyList<RouteExclusion> Skipped { get; }

    /// <summary>Gets a value indicating whether hedging started an extra attempt while another was still running.</summary>
    public bool Hedged { get; }

    /// <summary>Gets the time from the start of the answering attempt to its first streamed update; null for non-streaming calls.</summary>
    public TimeSpan? TimeToFirstToken { get; }

    /// <inheritdoc/>
    public override string ToString() => CacheHit is { } tier ? $"cache hit ({tier}{(Similarity is { } s ? $", similarity {s:F3}" : string.Empty)})" : $"{Route} ({ModelId}) after {AttemptCount} attempt(s){(Hedged ? ", hedged" : string.Empty)}";

    internal static RoutingInfo ForCacheHit(CacheTier tier, double? similarity, string? modelId, string cacheKey, bool keptOnDevice) => new(tier, similarity, modelId, cacheKey, keptOnDevice);
}
