namespace InferenceRouter;

/// <summary>Options for <see cref="RedisInferenceRouterBuilderExtensions.UseRedis"/>, bound from <c>InferenceRouter:Redis</c>.</summary>
public sealed class InferenceRouterRedisOptions
{
    /// <summary>The configuration section, under the router's.</summary>
    public const string SectionName = "Redis";

    /// <summary>Gets or sets the StackExchange.Redis connection string; when unset, <c>ConnectionStrings:Redis</c> from the app's configuration.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Gets or sets a connection string for the shared cache's own Redis, or null to use <see cref="ConnectionString"/>. The ledger
    /// needs <c>maxmemory-policy noeviction</c> and the eviction policy is per Redis server, so a cache that should evict (e.g.
    /// <c>allkeys-lru</c>) belongs on another server.
    /// </summary>
    public string? CacheConnectionString { get; set; }

    /// <summary>Gets the shared budget ledger's options (<c>InferenceRouter:Redis:Budgets</c>).</summary>
    public RedisBudgetLedgerOptions Budgets { get; } = new();

    /// <summary>Gets or sets a value indicating whether the semantic cache's entries are shared too (<see cref="RedisCacheStore"/>). Default: true.</summary>
    public bool ShareCache { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether route health is shared too (<see cref="RedisRouteHealthSync"/>, under the ledger's key
    /// prefix): a Retry-After, an opened circuit or a drain seen by one instance is honoured by the others. Default: false (opt in).
    /// </summary>
    public bool ShareHealth { get; set; }

    /// <summary>Gets the shared cache store's options (<c>InferenceRouter:Redis:Cache</c>).</summary>
    public RedisCacheStoreOptions Cache { get; } = new();

    /// <summary>
    /// Gets or sets a value indicating whether what quality routing learns is shared too (<see cref="RedisQualitySync"/>, under the
    /// ledger's key prefix): an outcome recorded on one instance is learned by all. Needs <c>AddQualityRouting()</c>. Default: false (opt in).
    /// </summary>
    public bool ShareQuality { get; set; }

    /// <summary>Gets the shared quality state's options (<c>InferenceRouter:Redis:Quality</c>).</summary>
    public RedisQualitySyncOptions Quality { get; } = new();

    /// <summary>Gets or sets a value indicating whether the ledger's prefix was taken from the app's name (for the start log).</summary>
    internal bool KeyPrefixFromAppName { get; set; }
}
