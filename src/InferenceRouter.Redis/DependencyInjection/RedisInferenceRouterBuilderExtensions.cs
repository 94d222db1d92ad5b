using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
    /// <remarks>
    /// Keys are under <see cref="RedisBudgetLedgerOptions.KeyPrefix"/>; when it is unset, the app's name (<c>IHostEnvironment.ApplicationName</c>,
    /// else the entry assembly's name), logged at start, so two apps never share a budget by default; the cache's prefix follows it unless
    /// set. When the host starts, the budget's limits are checked against those stored under the prefix: a limit stored with another
    /// amount or window stops the start, naming the prefix, the limit, both values and the fix (checked before the first reservation
    /// instead when Redis is down then).
    /// </remarks>
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

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure<IServiceProvider>((o, services) =>
        {
            o.ConnectionString ??= services.GetService<IConfiguration>()?.GetConnectionString("Redis");
            if (o.Budgets.KeyPrefix is null && AppName(services) is { } name)
            {
                // Two unrelated apps on one Redis must not share a budget by default: the prefix is the app's own name unless set.
                o.Budgets.KeyPrefix = name;
                o.KeyPrefixFromAppName = true;
            }

            o.Cache.KeyPrefix ??= o.Budgets.KeyPrefix;
        });

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceRouterRedisOptions>, InferenceRouterRedisOptionsValidator>());
        builder.Services.TryAddSingleton<IConnectionMultiplexer>(sp => Connect(sp.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value.ConnectionString!));
        builder.Services.TryAddSingleton<RedisCacheConnection>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IBudgetLedger>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value;
            var logger = sp.GetService<ILogger<RedisBudgetLedger>>();
            if (logger is not null)
            {
                RedisBudgetLog.UsingPrefix(logger, options.Budgets.KeyPrefix!, options.KeyPrefixFromAppName ? "the app's name; set InferenceRouter:Redis:Budgets:KeyPrefix to choose another" : "configured");
            }

            return new RedisBudgetLedger(sp.GetRequiredService<IConnectionMultiplexer>(), options.Budgets, sp.GetService<TimeProvider>(), logger, sp.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        }));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisLimitsCheck>());
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
                sp.GetRequiredService<RedisHealthSharing>().Start(sp.GetRequiredService<IConnectionMultiplexer>(), router, options.Budgets.KeyPrefix!);
            }

            if (options.ShareQuality)
            {
                var predictor = sp.GetService<QualityPredictor>()
                    ?? throw new InvalidOperationException("InferenceRouter:Redis:ShareQuality is on but no QualityPredictor is registered: call AddQualityRouting() on the router builder, or turn ShareQuality off.");
                sp.GetRequiredService<RedisQualitySharing>().Start(() => new RedisQualitySync(
                    sp.GetRequiredService<IConnectionMultiplexer>(), predictor, options.Budgets.KeyPrefix!, options.Quality, sp.GetService<Microsoft.Extensions.Logging.ILogger<RedisQualitySync>>()));
            }
        });
        return builder;
    }

    /// <summary>The app's name as a key prefix (braces, which would break the hash tag, dropped), or null.</summary>
    private static string? AppName(IServiceProvider services)
    {
        var name = services.GetService<IHostEnvironment>()?.ApplicationName ?? System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
        name = name?.Replace("{", string.Empty, StringComparison.Ordinal).Replace("}", string.Empty, StringComparison.Ordinal);
        return string.IsNullOrWhiteSpace(name) ? null : name;
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
