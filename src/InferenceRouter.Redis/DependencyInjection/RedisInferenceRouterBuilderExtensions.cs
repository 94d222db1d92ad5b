using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>Shares the router's state across app instances through Redis.</summary>
public static class RedisInferenceRouterBuilderExtensions
{
    /// <summary>
    /// Makes every app instance share one budget ledger in Redis (<see cref="RedisBudgetLedger"/>): limits hold across the fleet; and,
    /// unless <see cref="InferenceRouterRedisOptions.ShareCache"/> is off, one semantic cache (<see cref="RedisCacheStore"/>, used by
    /// <c>UseSemanticCache()</c>): an answer cached by one instance is a hit on the others; and, when
    /// <see cref="InferenceRouterRedisOptions.ShareHealth"/> is on, route health (<see cref="RedisRouteHealthSync"/>); and when
    /// <see cref="InferenceRouterRedisOptions.ShareQuality"/> is on, what quality routing learns (<see cref="RedisQualitySync"/>). The
    /// connection string comes from <paramref name="configure"/>, <c>InferenceRouter:Redis:ConnectionString</c> or
    /// <c>ConnectionStrings:Redis</c>, checked at start. The app starts even when Redis is down (calls then fail closed, within
    /// <see cref="RedisBudgetLedgerOptions.OperationTimeout"/>).
    /// </summary>
    /// <param name="builder">The router builder.</param>
    /// <param name="configure">Changes the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static InferenceRouterBuilder UseRedis(this InferenceRouterBuilder builder, Action<InferenceRouterRedisOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.DeclareSettings<InferenceRouterRedisOptions>(InferenceRouterRedisOptions.SectionName);
        var options = builder.Services.AddOptions<InferenceRouterRedisOptions>();
        if (builder.Configuration is { } configuration)
        {
            options.Bind(configuration.GetSection(InferenceRouterRedisOptions.SectionName));
        }

        options.PostConfigure<IServiceProvider>((o, services) => o.ConnectionString ??= services.GetService<IConfiguration>()?.GetConnectionString("Redis"));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceRouterRedisOptions>, InferenceRouterRedisOptionsValidator>());
        builder.Services.TryAddSingleton<IConnectionMultiplexer>(sp => Connect(sp.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value.ConnectionString!));
        builder.Services.TryAddSingleton<RedisCacheConnection>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IBudgetLedger>(sp => new RedisBudgetLedger(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value.Budgets,
            sp.GetService<TimeProvider>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<RedisBudgetLedger>>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>())));
        builder.Services.TryAddSingleton<ICacheStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value;
            // Not shared: no store from DI, so UseSemanticCache() makes its own in-memory one with its own size limits.
            return options.ShareCache ? new RedisCacheStore(sp.GetRequiredService<RedisCacheConnection>().Connection, options.Cache, sp.GetService<TimeProvider>()) : null!;
        });
        builder.Services.TryAddSingleton<RedisHealthSharing>();
        builder.Services.TryAddSingleton<RedisQualitySharing>();
        builder.OnRouterCreated((sp, router) =>
        {
            var options = sp.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value;
            if (options.ShareHealth)
            {
                sp.GetRequiredService<RedisHealthSharing>().Start(sp.GetRequiredService<IConnectionMultiplexer>(), router, options.Budgets.KeyPrefix);
            }

            if (options.ShareQuality)
            {
                var predictor = sp.GetService<QualityPredictor>()
                    ?? throw new InvalidOperationException("InferenceRouter:Redis:ShareQuality is on but no QualityPredictor is registered: call AddQualityRouting() on the router builder, or turn ShareQuality off.");
                sp.GetRequiredService<RedisQualitySharing>().Start(() => new RedisQualitySync(
                    sp.GetRequiredService<IConnectionMultiplexer>(), predictor, options.Budgets.KeyPrefix, options.Quality, sp.GetService<Microsoft.Extensions.Logging.ILogger<RedisQualitySync>>()));
            }
        });
        return builder;
    }

    private static ConnectionMultiplexer Connect(string connectionString)
    {
        var redis = ConfigurationOptions.Parse(connectionString);
        redis.AbortOnConnectFail = false;  // start without Redis; operations fail closed until it is back
        return ConnectionMultiplexer.Connect(redis);
    }

    /// <summary>The shared cache's connection: its own when <see cref="InferenceRouterRedisOptions.CacheConnectionString"/> is set (disposed with the container), else the app's.</summary>
    internal sealed class RedisCacheConnection(IServiceProvider services, IOptions<InferenceRouterRedisOptions> options) : IDisposable
    {
        private readonly ConnectionMultiplexer? _own = options.Value.CacheConnectionString is { } cache ? Connect(cache) : null;

        public IConnectionMultiplexer Connection => _own ?? services.GetRequiredService<IConnectionMultiplexer>();

        public void Dispose() => _own?.Dispose();
    }

    /// <summary>Holds the quality predictor's sharing for the container's lifetime (disposed with it).</summary>
    internal sealed class RedisQualitySharing : IDisposable
    {
        private RedisQualitySync? _sync;

        public void Start(Func<RedisQualitySync> create) => _sync ??= create();

        public void Dispose() => _sync?.Dispose();
    }

    /// <summary>Holds the router's health sharing for the container's lifetime (disposed with it).</summary>
    internal sealed class RedisHealthSharing : IDisposable
    {
        private RedisRouteHealthSync? _sync;

        public Task Subscribed => _sync?.Subscribed ?? Task.CompletedTask;

        public void Start(IConnectionMultiplexer redis, RouterChatClient router, string keyPrefix) => _sync ??= new RedisRouteHealthSync(redis, router, keyPrefix);

        public void Dispose() => _sync?.Dispose();
    }
}
