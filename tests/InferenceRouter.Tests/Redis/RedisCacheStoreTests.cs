using InferenceRouter.TestServer;
using InferenceRouter.Tests.Caching;
using StackExchange.Redis;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Redis;

/// <summary>Two (or three) app instances, each with its own connection, store and semantic cache, sharing entries through a real redis-server.</summary>
[Collection(EmbeddingCollection.Name)]
public class RedisCacheStoreTests(EmbeddingFixture embeddings)
{
    private sealed class Instance : IAsyncDisposable
    {
        private Instance(ConnectionMultiplexer redis, RedisCacheStore store, SemanticCacheChatClient cache, TestChatClient model)
        {
            Redis = redis;
            Store = store;
            Cache = cache;
            Model = model;
        }

        public ConnectionMultiplexer Redis { get; }

        public RedisCacheStore Store { get; }

        public SemanticCacheChatClient Cache { get; }

        public TestChatClient Model { get; }

        public static async Task<Instance> StartAsync(RedisServer server, EmbeddingFixture embeddings, string name)
        {
            var redis = await server.ConnectAsync();
            var store = new RedisCacheStore(redis, new RedisCacheStoreOptions { KeyPrefix = "cache-test" });
            var model = TestChatClient.Answering("answer from " + name);
            await store.Subscribed;
            return new Instance(redis, store, new SemanticCacheChatClient(model, embeddings.Generator, store), model);
        }

        public async ValueTask DisposeAsync()
        {
            Cache.Dispose();
            Store.Dispose();
            await Redis.DisposeAsync();
        }
    }

    [RedisFact]
    public async Task An_answer_cached_by_one_instance_is_an_exact_and_a_semantic_hit_on_another_and_tenants_stay_apart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var a = await Instance.StartAsync(server, embeddings, "a");
        await using var b = await Instance.StartAsync(server, embeddings, "b");

        (await a.Cache.GetResponseAsync(Prompt("How can I learn Python quickly?"))).Text.Should().Be("answer from a");
        await Eventually.TrueAsync(() => b.Store.Count == 1, "b heard of a's entry");

        var paraphrase = await b.Cache.GetResponseAsync(Prompt("How do I learn Python quickly?"));
        paraphrase.Text.Should().Be("answer from a");
        paraphrase.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Semantic);
        var same = await b.Cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));
        same.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        b.Model.Calls.Should().Be(0, "b never asked its model");

        var otherTenant = await b.Cache.GetResponseAsync(Prompt("How can I learn Python quickly?"), new ChatOptions().ForTenant("globex"));
        otherTenant.Text.Should().Be("answer from b", "another tenant's partition holds nothing of a's");
    }

    [RedisFact]
    public async Task A_removal_and_a_learned_threshold_on_one_instance_are_seen_by_the_others_and_a_new_instance_loads_what_exists()
    {
        await using var server = await RedisServer.StartAsync();
        await using var a = await Instance.StartAsync(server, embeddings, "a");
        await using var b = await Instance.StartAsync(server, embeddings, "b");
        await a.Cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));
        await a.Cache.GetResponseAsync(Prompt("What is the capital of France?"));
        await Eventually.TrueAsync(() => b.Store.Count == 2, "b heard of both entries");

        // A third instance started now loads what is stored into its index.
        await using var c = await Instance.StartAsync(server, embeddings, "c");
        await c.Cache.Loading;
        (await c.Cache.GetResponseAsync(Prompt("How do I learn Python quickly?"))).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Semantic);
        c.Model.Calls.Should().Be(0);

        // b finds a paraphrase hit unhelpful: the entry now asks for a closer match, on every instance.
        var hit = await b.Cache.GetResponseAsync(Prompt("How do I learn Python quickly?"));
        hit.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Semantic);
        (await b.Cache.ReportOutcomeAsync(hit.GetRoutingInfo()!, helpful: false)).Should().BeTrue();
        var entryOnA = await a.Store.GetAsync(hit.GetRoutingInfo()!.CacheKey!, peek: true);
        await Eventually.TrueAsync(() => entryOnA!.LearnedMinSimilarity > 0.9, "a learned b's threshold");
        int calls = a.Model.Calls;
        (await a.Cache.GetResponseAsync(Prompt("How do I learn Python quickly?"))).GetRoutingInfo()?.CacheHit.Should().BeNull("the paraphrase no longer passes the learned threshold on a either");
        a.Model.Calls.Should().Be(calls + 1);

        // a finds an exact hit wrong: the entry goes, everywhere.
        var france = await a.Cache.GetResponseAsync(Prompt("What is the capital of France?"));
        (await a.Cache.ReportOutcomeAsync(france.GetRoutingInfo()!, helpful: false)).Should().BeTrue();
        await Eventually.TrueAsync(() => b.Store.GetAsync(france.GetRoutingInfo()!.CacheKey!, peek: true).AsTask().Result is null, "b dropped the removed entry");
        (await b.Cache.GetResponseAsync(Prompt("What is the capital of France?"))).Text.Should().Be("answer from b");
    }

    [RedisFact]
    public async Task When_a_noeviction_redis_is_full_new_entries_stay_local_and_nothing_fails()
    {
        await using var server = await RedisServer.StartAsync();
        using var redisA = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        using var redisB = await server.ConnectAsync();
        using var a = new RedisCacheStore(redisA);
        using var b = new RedisCacheStore(redisB);
        await redisA.GetServers().Single().ConfigSetAsync("maxmemory-policy", "noeviction");
        await redisA.GetServers().Single().ConfigSetAsync("maxmemory", "1");
        var entry = new CacheEntry("full", "p", "q", null, new CachedChatResponse([new CachedMessage("assistant", "a")], null, null, null, null), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));

        await a.SetAsync(entry);

        (await a.GetAsync("full")).Should().NotBeNull("Redis refused it (OOM), so it stays on the instance that stored it");
        (await b.GetAsync("full")).Should().BeNull("it was never shared");
        (await redisB.GetDatabase().KeyExistsAsync("{inference-router}:c:full")).Should().BeFalse();
    }

    [RedisFact]
    public async Task When_redis_is_down_the_cache_is_a_miss_never_a_failed_call()
    {
        await using var server = await RedisServer.StartAsync();
        await using var a = await Instance.StartAsync(server, embeddings, "a");
        server.Kill();

        (await a.Cache.GetResponseAsync(Prompt("How can I learn Python quickly?"))).Text.Should().Be("answer from a");
        (await a.Cache.GetResponseAsync(Prompt("How can I learn Python quickly?"))).GetRoutingInfo()?.CacheHit.Should().Be(CacheTier.Exact, "this instance still has its own answer");
        a.Model.Calls.Should().Be(1);
    }

    [RedisFact]
    public async Task A_store_built_while_redis_is_down_does_not_fail_and_follows_changes_once_it_is_back()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        server.Kill();

        using var store = new RedisCacheStore(redis, new RedisCacheStoreOptions { KeyPrefix = "late" });
        (await store.GetAsync("anything")).Should().BeNull("an unreachable store is a miss");

        await server.RestartAsync();
        await store.Subscribed.WaitAsync(TimeSpan.FromSeconds(60));
        await using var other = await Instance.StartAsync(server, embeddings, "other");
        using var writer = new RedisCacheStore(other.Redis, new RedisCacheStoreOptions { KeyPrefix = "late" });
        await writer.Subscribed;
        var entry = new CacheEntry("k", "p", "q", null, new CachedChatResponse([new CachedMessage("assistant", "a")], null, null, null, null), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));

        // After a reconnect the client re-subscribes in the background: a change announced before that is missed, a later one is heard.
        await Eventually.TrueAsync(async () =>
        {
            await writer.SetAsync(entry);
            await Task.Delay(100);
            return store.Count == 1;
        }, "the late store hears changes once Redis is back");
    }
}
