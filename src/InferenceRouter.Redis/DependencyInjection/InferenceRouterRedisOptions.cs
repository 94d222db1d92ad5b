namespace InferenceRouter;

/// <summary>Options for <see cref="RedisInferenceRouterBuilderExtensions.UseRedis"/>, bound from <c>InferenceRouter:Redis</c>.</summary>
public sealed class InferenceRouterRedisOptions
{
    /// <summary>The configuration section, under the router's.</summary>
    public const string SectionName = "Redis";

    /// <summary>Gets or sets the StackExchange.Redis connection string; when unset, <c>ConnectionStrings:Redis</c> from the app's configuration.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Gets the shared budget ledger's options (<c>InferenceRouter:Redis:Budgets</c>).</summary>
    public RedisBudgetLedgerOptions Budgets { get; } = new();
}
