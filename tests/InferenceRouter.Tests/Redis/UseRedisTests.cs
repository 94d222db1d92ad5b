using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary><c>UseRedis()</c>: the shared ledger from configuration, checked at start.</summary>
public class UseRedisTests
{
    [RedisFact]
    public async Task Two_hosts_configured_with_ConnectionStrings_Redis_share_one_tenant_budget()
    {
        await using var server = await RedisServer.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = server.ConnectionString,
            ["InferenceRouter:Redis:Budgets:KeyPrefix"] = "shared-app",
            ["InferenceRouter:Budgets:UseDefaultPriceCatalog"] = "false",
            ["InferenceRouter:Budgets:Prices:test-model:InputPerMillion"] = "1000",
            ["InferenceRouter:Budgets:Prices:test-model:OutputPerMillion"] = "1000",
            ["InferenceRouter:Budgets:Limits:0:Scope"] = "Tenant",
            ["InferenceRouter:Budgets:Limits:0:Amount"] = "0.05",
        }).Build();

        ServiceProvider Host()
        {
            var services = new ServiceCollection();
            services.AddSingleton<IConfiguration>(configuration);
            var answering = new TestChatClient
            {
                GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 10 } }),
            };
            services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), r => r
                    .AddRoute(new RouteDescriptor("only") { ModelId = "test-model", MaxOutputTokens = 10 }, answering)
                    .UseRedis())
                .UseBudgets();
            return services.BuildServiceProvider();
        }

        await using var first = Host();
        await using var second = Host();
        var options = new ChatOptions { MaxOutputTokens = 10 }.ForTenant("acme");

        // Each call reserves at most (prompt + 10) tokens × 0.001 and spends 0.02: two calls fit 0.05, the third (on the other host) does not.
        await first.GetRequiredService<IChatClient>().GetResponseAsync("Hi", options);
        await second.GetRequiredService<IChatClient>().GetResponseAsync("Hi", options);
        await second.GetRequiredService<IChatClient>().Awaiting(c => c.GetResponseAsync("Hi", options)).Should().ThrowAsync<BudgetExceededException>();

        first.GetRequiredService<IBudgetLedger>().Should().BeOfType<RedisBudgetLedger>();
        var balances = await first.GetRequiredService<IBudgetLedger>().GetBalancesAsync();
        balances.Single(b => b.Key.ScopeValue == "acme").Spent.Should().Be(0.04m, "both hosts' calls count against one budget");
        using var redis = await server.ConnectAsync();
        redis.GetServers().Single().Keys(pattern: "{shared-app}:a:*").Should().NotBeEmpty();
    }

    [RedisFact]
    public async Task Two_hosts_share_the_semantic_cache_unless_told_not_to()
    {
        await using var server = await RedisServer.StartAsync();

        ServiceProvider Host(string name, bool share)
        {
            var services = new ServiceCollection();
            services.AddInferenceRouter(r => r.AddRoute(new RouteDescriptor("only"), TestChatClient.Answering("from " + name)).UseRedis(o =>
            {
                o.ConnectionString = server.ConnectionString;
                o.ShareCache = share;
            })).UseSemanticCache();
            return services.BuildServiceProvider();
        }

        await using var first = Host("first", share: true);
        await using var second = Host("second", share: true);
        await using var alone = Host("alone", share: false);
        (await first.GetRequiredService<IChatClient>().GetResponseAsync("What is 2 + 2?")).Text.Should().Be("from first");

        // The second host builds its pipeline only now, after the entry was stored: it reads it from Redis.
        var shared = await second.GetRequiredService<IChatClient>().GetResponseAsync("What is 2 + 2?");
        shared.Text.Should().Be("from first");
        shared.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        alone.GetService<ICacheStore>().Should().BeNull("ShareCache is off: UseSemanticCache keeps its own in-memory store");
        (await alone.GetRequiredService<IChatClient>().GetResponseAsync("What is 2 + 2?")).Text.Should().Be("from alone");
    }

    [RedisFact]
    public async Task An_answer_to_a_call_kept_on_the_device_is_cached_on_its_instance_only_and_never_written_to_redis()
    {
        await using var server = await RedisServer.StartAsync();

        ServiceProvider Host(string name)
        {
            var services = new ServiceCollection();
            services.AddInferenceRouter(r => r
                    .AddRoute(new RouteDescriptor("local") { IsLocal = true }, TestChatClient.Answering("from " + name))
                    .UseRedis(o => o.ConnectionString = server.ConnectionString))
                .UseSemanticCache();
            return services.BuildServiceProvider();
        }

        await using var first = Host("first");
        await using var second = Host("second");
        var privateCall = new ChatOptions().KeepOnDevice();
        (await first.GetRequiredService<IChatClient>().GetResponseAsync("My diagnosis is private. What now?", privateCall)).Text.Should().Be("from first");

        var again = await first.GetRequiredService<IChatClient>().GetResponseAsync("My diagnosis is private. What now?", privateCall);
        again.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact, "the instance that answered still caches it");
        (await second.GetRequiredService<IChatClient>().GetResponseAsync("My diagnosis is private. What now?", privateCall)).Text.Should().Be("from second", "it was never shared");
        using var redis = await server.ConnectAsync();
        redis.GetServers().Single().Keys(pattern: "*:c:*").Should().BeEmpty("neither the question nor the answer reached Redis");

        (await first.GetRequiredService<IChatClient>().GetResponseAsync("What is 2 + 2?")).Text.Should().Be("from first");
        redis.GetServers().Single().Keys(pattern: "*:c:*").Should().ContainSingle("an ordinary call is shared as usual");
    }

    [RedisFact]
    public async Task No_command_about_a_call_kept_on_the_device_reaches_redis_not_even_a_lookup_of_its_key()
    {
        await using var server = await RedisServer.StartAsync();
        var services = new ServiceCollection();
        services.AddInferenceRouter(r => r
                .AddRoute(new RouteDescriptor("local") { IsLocal = true }, TestChatClient.Answering("from local"))
                .UseRedis(o => o.ConnectionString = server.ConnectionString))
            .UseSemanticCache();
        await using var host = services.BuildServiceProvider();
        var client = host.GetRequiredService<IChatClient>();
        using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var admin = redis.GetServers().Single();

        async Task<long> KeyCommandsAsync()
        {
            // Every command that names a cache key or announces one: reads, writes, removals, announcements.
            var stats = (await admin.InfoAsync("commandstats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
            return new[] { "get", "psetex", "set", "setex", "del", "unlink", "publish", "exists", "pexpire" }
                .Sum(c => stats.TryGetValue("cmdstat_" + c, out var v) ? long.Parse(v.Split(',')[0].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture) : 0);
        }

        await client.GetResponseAsync("warm up");
        await Task.Delay(200);
        long before = await KeyCommandsAsync();
        var privateCall = new ChatOptions().KeepOnDevice().ForTenant("acme");
        await client.GetResponseAsync("My test results are private. What do they mean?", privateCall);
        var hit = await client.GetResponseAsync("My test results are private. What do they mean?", privateCall);
        hit.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        (await host.GetRequiredService<IChatClient>().GetService<SemanticCacheChatClient>()!.ReportOutcomeAsync(hit.GetRoutingInfo()!, helpful: false)).Should().BeTrue();
        await client.GetStreamingResponseAsync("Another private question?", privateCall).ToChatResponseAsync();
        await Task.Delay(200);
        (await KeyCommandsAsync()).Should().Be(before, "a private call's key is a fingerprint of its prompt: it never reaches Redis");

        await client.GetResponseAsync("What is 2 + 2?");
        (await KeyCommandsAsync()).Should().BeGreaterThan(before, "an ordinary call does use Redis: the count would see a leak");
    }

    [RedisFact]
    public async Task With_CacheConnectionString_the_cache_lives_on_its_own_server_and_the_ledger_stays_on_the_main_one()
    {
        await using var ledgerServer = await RedisServer.StartAsync();
        await using var cacheServer = await RedisServer.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Redis:ConnectionString"] = ledgerServer.ConnectionString,
            ["InferenceRouter:Redis:CacheConnectionString"] = cacheServer.ConnectionString,
            ["InferenceRouter:Budgets:UseDefaultPriceCatalog"] = "false",
            ["InferenceRouter:Budgets:Prices:test-model:InputPerMillion"] = "1",
            ["InferenceRouter:Budgets:Prices:test-model:OutputPerMillion"] = "1",
            ["InferenceRouter:Budgets:Limits:0:Scope"] = "Tenant",
            ["InferenceRouter:Budgets:Limits:0:Amount"] = "10",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), r => r
                .AddRoute(new RouteDescriptor("only") { ModelId = "test-model", MaxOutputTokens = 10 }, TestChatClient.Answering("ok"))
                .UseRedis())
            .UseSemanticCache()
            .UseBudgets();
        await using (var provider = services.BuildServiceProvider())
        {
            await provider.GetRequiredService<IChatClient>().GetResponseAsync("What is 2 + 2?", new ChatOptions().ForTenant("acme"));
        }

        using var ledger = await ledgerServer.ConnectAsync();
        using var cache = await cacheServer.ConnectAsync();
        ledger.GetServers().Single().Keys(pattern: "*:a:*").Should().NotBeEmpty("the budget was charged on the main server");
        ledger.GetServers().Single().Keys(pattern: "*:c:*").Should().BeEmpty();
        cache.GetServers().Single().Keys(pattern: "*:c:*").Should().ContainSingle("the answer was cached on the cache's server");
        cache.GetServers().Single().Keys(pattern: "*:a:*").Should().BeEmpty();
    }

    [RedisFact]
    public async Task Hosts_with_ShareQuality_learn_each_others_outcomes_and_without_quality_routing_it_is_a_start_error()
    {
        await using var server = await RedisServer.StartAsync();

        ServiceProvider Host(bool quality = true)
        {
            var services = new ServiceCollection();
            services.AddInferenceRouter(r =>
            {
                r.AddRoute(new RouteDescriptor("small") { QualityTier = 0 }, TestChatClient.Answering("small"))
                    .AddRoute(new RouteDescriptor("large") { QualityTier = 1 }, TestChatClient.Answering("large"))
                    .UseRedis(o =>
                    {
                        o.ConnectionString = server.ConnectionString;
                        o.ShareQuality = true;
                        o.Quality.PollInterval = TimeSpan.FromMilliseconds(50);
                    });
                if (quality)
                {
                    r.AddQualityRouting();
                }
            });
            return services.BuildServiceProvider();
        }

        await using var first = Host();
        await using var second = Host();
        _ = first.GetRequiredService<IChatClient>();
        _ = second.GetRequiredService<IChatClient>();
        await first.GetRequiredService<QualityPredictor>().RecordOutcomeAsync("Prove that there are infinitely many primes.", 0, 0);

        await Eventually.TrueAsync(() => second.GetRequiredService<QualityPredictor>().OutcomeCount == 1, "the second host learned the first host's outcome");

        await using var without = Host(quality: false);
        without.Invoking(p => p.GetRequiredService<IChatClient>()).Should().Throw<InvalidOperationException>().WithMessage("*ShareQuality*AddQualityRouting()*");
    }

    [Fact]
    public void A_missing_or_bad_connection_string_fails_at_start_saying_where_to_set_it()
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(r => r.AddRoute(new RouteDescriptor("only"), TestChatClient.Answering("x")).UseRedis()).UseBudgets();
        using var provider = services.BuildServiceProvider();

        provider.Invoking(p => p.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value).Should().Throw<OptionsValidationException>()
            .WithMessage("*InferenceRouter:Redis:ConnectionString or ConnectionStrings:Redis*");

        var prefixed = new ServiceCollection();
        prefixed.AddInferenceRouter(r => r.AddRoute(new RouteDescriptor("only"), TestChatClient.Answering("x")).UseRedis(o =>
        {
            o.ConnectionString = "localhost:1";
            o.Budgets.KeyPrefix = "bad{tag}";
        }));
        using var second = prefixed.BuildServiceProvider();
        second.Invoking(p => p.GetRequiredService<IOptions<InferenceRouterRedisOptions>>().Value).Should().Throw<OptionsValidationException>().WithMessage("*KeyPrefix 'bad{tag}'*braces*");
    }
}
