using Microsoft.Extensions.DependencyInjection;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Caching;

/// <summary>The cache in a DI pipeline, outside the budget and the router: a hit takes no route and spends nothing.</summary>
[Collection(EmbeddingCollection.Name)]
public class CachePipelineTests(EmbeddingFixture fixture)
{
    [Fact]
    public async Task A_hit_in_front_of_budgets_and_the_router_calls_no_route_and_spends_nothing()
    {
        var provider = TestChatClient.Answering("Practice every day.");
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(fixture.Generator); // an instance: the container does not dispose the shared model
        services.AddInferenceRouter(router => router
                .AddRoute(new RouteDescriptor("model") { ModelId = "m", Pricing = new RoutePricing(1m, 1m), Capabilities = RouteCapabilities.All }, provider)
                .ConfigureBudgets(b => b.Limits.Add(new BudgetLimit { Amount = 1m })))
            .UseSemanticCache(o => o.TimeToLive = TimeSpan.FromMinutes(5))
            .UseBudgets();
        await using var container = services.BuildServiceProvider();
        var client = container.GetRequiredService<IChatClient>();
        var budget = container.GetRequiredService<BudgetManager>();

        var miss = await client.GetResponseAsync(Prompt("How can I learn Python quickly?"), new ChatOptions { MaxOutputTokens = 50 });
        var spent = (await budget.GetReportAsync()).TotalCost;
        var hit = await client.GetResponseAsync(Prompt("How do I learn Python quickly?"), new ChatOptions { MaxOutputTokens = 50 });

        miss.GetRoutingInfo()!.Route.Should().Be("model");
        miss.GetCost()!.Amount.Should().BeGreaterThan(0m);
        hit.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Semantic);
        hit.GetCost()!.Amount.Should().Be(0m);
        provider.Calls.Should().Be(1);
        (await budget.GetReportAsync()).TotalCost.Should().Be(spent);
        client.GetService<SemanticCacheChatClient>()!.Options.TimeToLive.Should().Be(TimeSpan.FromMinutes(5));
    }
}
