using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Quotas;

/// <summary>The <c>most-headroom</c> ranker: load spreads by the share of quota left, before any route is full.</summary>
[Collection(nameof(QuotaTests))]
public class MostHeadroomTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Load_splits_by_headroom_so_both_routes_fill_together(bool streaming)
    {
        int seed = Random.Shared.Next();
        int small = new Random(seed).Next(10, 30), large = 2 * small;
        await using var a = await FakeProviderServer.StartAsync("a");
        await using var b = await FakeProviderServer.StartAsync("b");
        a.Quota = new ServerQuota(requestsPerMinute: small);
        b.Quota = new ServerQuota(requestsPerMinute: large);
        using var router = new RouterChatClient(
            [Route("a", a, small), Route("b", b, large)],
            new RouterOptions { DefaultPolicy = RoutingPolicies.MostHeadroom });

        int half = (small + large) / 2;
        for (int i = 0; i < half; i++)
        {
            _ = streaming ? await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync() : await router.GetResponseAsync(Prompt());
        }

        // Half the combined quota sent: each route has given about half of its own (priority would have filled 'a' first).
        a.RequestCount.Should().BeInRange((small / 2) - 1, (small / 2) + 1, $"seed {seed}");
        b.RequestCount.Should().BeInRange((large / 2) - 1, (large / 2) + 1, $"seed {seed}");
        (a.RateLimitedRequests + b.RateLimitedRequests).Should().Be(0);
    }

    [Fact]
    public async Task Least_in_flight_breaks_ties_by_headroom()
    {
        await using var a = await FakeProviderServer.StartAsync("a");
        await using var b = await FakeProviderServer.StartAsync("b");
        using var router = new RouterChatClient([Route("a", a, 10), Route("b", b, 10)], new RouterOptions { DefaultPolicy = RoutingPolicies.LeastInFlight });

        for (int i = 0; i < 10; i++)
        {
            await router.GetResponseAsync(Prompt());
        }

        a.RequestCount.Should().Be(5, "with nothing in flight, the route with more quota left goes first: they alternate");
        b.RequestCount.Should().Be(5);
    }

    [Fact]
    public void The_ranker_is_selectable_from_appsettings()
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:DefaultPolicy"] = "most-headroom",
            ["InferenceRouter:Routes:0:Name"] = "r",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = "http://127.0.0.1:9/v1",
            ["InferenceRouter:Routes:0:Model"] = "m",
        }).Build().GetSection("InferenceRouter"));
        using var provider = services.BuildServiceProvider();

        var router = provider.GetRequiredService<IChatClient>().GetService<RouterChatClient>()!;

        router.Options.DefaultPolicy.Should().Be("most-headroom");
        router.Explain(Prompt()).Routes.Should().ContainSingle(r => r.Route == "r");
    }

    private static ChatRoute Route(string name, FakeProviderServer server, int requestsPerMinute) =>
        new(new RouteDescriptor(name) { ModelId = name + "-model", Quota = new RouteQuota { RequestsPerMinute = requestsPerMinute } }, server.CreateChatClient(name + "-model"));
}
