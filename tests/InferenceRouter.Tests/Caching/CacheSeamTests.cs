using InferenceRouter.Tests.Redis;
using InferenceRouter.TestServer;
using StackExchange.Redis;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Caching;

/// <summary>Where the cache meets the layers around it: privacy decided below it, the route preview, calls made with and without options.</summary>
public class CacheSeamTests
{
    [RedisTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_call_made_private_below_the_cache_is_never_written_to_redis(bool streaming)
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        using var router = Router(
            Of("cloud", TestChatClient.Answering("from the cloud")),
            Of("local", TestChatClient.Answering("from the device"), d => new RouteDescriptor(d.Name) { IsLocal = true }));
        static ChatOptions Private(ChatOptions? o) => (o?.Clone() ?? new ChatOptions()).KeepOnDevice();
        using var client = new ChatClientBuilder(router)
            .UseSemanticCache(store: new RedisCacheStore(redis))
            .Use( // middleware below the cache that makes calls about a social security number private, as guarantees.md allows
                (m, o, inner, ct) => inner.GetResponseAsync(m, m.Last().Text.Contains("SSN") ? Private(o) : o, ct),
                (m, o, inner, ct) => inner.GetStreamingResponseAsync(m, m.Last().Text.Contains("SSN") ? Private(o) : o, ct))
            .Build();
        const string Question = "My SSN is 123-45-6789. Which tax bracket am I in?";

        var answer = streaming ? await client.GetStreamingResponseAsync(Question).ToChatResponseAsync() : await client.GetResponseAsync(Question);
        await client.GetResponseAsync("What is 2 + 2?"); // an ordinary call is stored: the check below would see a leak

        answer.Text.Should().Be("from the device");
        var keys = redis.GetServers().Single().Keys(pattern: "*").Select(k => (string)k!).ToList();
        keys.Should().NotBeEmpty("the ordinary call was stored");
        foreach (var key in keys.Where(k => redis.GetDatabase().KeyType(k) == RedisType.String))
        {
            ((string?)await redis.GetDatabase().StringGetAsync(key) ?? string.Empty).Should().NotContain("123-45-6789");
        }
    }

    /// <summary>A custom policy with state: it alternates between its candidates, and leaves its state alone when only asked.</summary>
    private sealed class RoundRobinPolicy : IRoutingPolicy
    {
        private int _next;

        public string Name => "round-robin";

        public void Apply(RouteSelection selection)
        {
            int turn = selection.IsExplaining ? Volatile.Read(ref _next) : Interlocked.Increment(ref _next) - 1;
            for (int i = 0; i < selection.Count; i++)
            {
                selection.SetScore(i, this, i == turn % selection.Count ? 0 : 1); // lower is better
            }
        }
    }

    [Fact]
    public async Task Looking_a_call_up_does_not_move_a_stateful_policy()
    {
        var a = TestChatClient.Answering("a");
        var b = TestChatClient.Answering("b");
        using var router = new RouterChatClient([Of("a", a), Of("b", b)], new RouterOptions { DefaultPolicy = "round-robin" }, [new RoundRobinPolicy()]);
        using var client = new ChatClientBuilder(router).UseSemanticCache().Build();

        var routes = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            routes.Add((await client.GetResponseAsync("Which route answers?")).GetRoutingInfo()!.Route);
        }

        routes.Where(r => r != "cache").Should().Equal(["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"], "each lookup asks the preview, which must not advance the policy");
        (a.Calls, b.Calls).Should().Be((5, 5));
    }

    [Fact]
    public async Task The_same_call_made_with_null_options_default_options_a_scope_or_hints_is_one_entry()
    {
        var provider = TestChatClient.Answering("answer");
        using var client = new ChatClientBuilder(Router(Of("only", provider))).UseSemanticCache().Build();

        using (RoutingScope.Begin(new RoutingHints { Tenant = "acme" }))
        {
            await client.GetResponseAsync("What is the capital of France?");
            (await client.GetResponseAsync("What is the capital of France?", new ChatOptions())).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        }

        (await client.GetResponseAsync("What is the capital of France?", new ChatOptions().ForTenant("acme"))).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        (await client.GetResponseAsync("What is the capital of France?")).GetRoutingInfo()!.CacheHit.Should().BeNull("another partition: no tenant");
        provider.Calls.Should().Be(2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_call_kept_on_the_device_with_no_router_below_is_refused_not_sent(bool streaming)
    {
        var remote = TestChatClient.Answering("sent away");
        var budget = new BudgetManager(new BudgetOptions { UnknownModelPricing = UnknownModelPricing.Free });
        foreach (var client in new IChatClient[] { new ChatClientBuilder(remote).UseSemanticCache().Build(), new ChatClientBuilder(remote).UseBudgets(budget).Build() })
        {
            var options = new ChatOptions().KeepOnDevice();
            Func<Task> call = streaming
                ? async () => await client.GetStreamingResponseAsync("private", options).ToChatResponseAsync()
                : () => client.GetResponseAsync("private", options);

            await call.Should().ThrowAsync<InvalidOperationException>().WithMessage("*kept on the device*no router below*");
        }

        remote.Calls.Should().Be(0);
    }
}
