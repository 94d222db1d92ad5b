using InferenceRouter.Tests.Integration;
using Microsoft.Extensions.AI;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Budgets;

/// <summary>Every call whose price is known says what it cost, budgets or not.</summary>
public class CostWithoutBudgetTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_priced_route_reports_the_cost_of_each_call_without_budgets(bool streaming)
    {
        await using var servers = await LoopbackServers.StartAsync("priced");
        using var router = new RouterChatClient(servers.Routes((_, d) => new RouteDescriptor(d.Name) { ModelId = d.ModelId, Capabilities = d.Capabilities, Pricing = new RoutePricing(2m, 8m) }));

        var cost = streaming
            ? (await router.GetStreamingResponseAsync(Prompt()).ToListAsync()).Select(u => u.GetCost()).Last(c => c is not null)
            : (await router.GetResponseAsync(Prompt())).GetCost();

        // The loopback server reports 11 input and 7 output tokens.
        cost.Should().NotBeNull();
        cost!.Amount.Should().Be(((11 * 2m) + (7 * 8m)) / 1_000_000m);
        cost.Should().Match<CallCost>(c => c.Route == "priced" && c.InputTokens == 11 && c.OutputTokens == 7 && !c.IsEstimated && c.Currency == "USD");
    }

    [Fact]
    public async Task The_default_catalog_prices_known_models_local_routes_are_free_and_unknown_ones_report_no_cost()
    {
        var answering = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok"))
            {
                Usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 1_000 },
            }),
        };
        using var router = new RouterChatClient(
        [
            Of("catalogued", answering, d => new RouteDescriptor(d.Name) { ModelId = "gpt-4.1-mini" }),
            Of("device", answering, d => new RouteDescriptor(d.Name) { ModelId = "phi", IsLocal = true }),
            Of("unknown", answering, d => new RouteDescriptor(d.Name) { ModelId = "nobody-knows-this-model" }),
        ]);

        ModelCatalog.Default.TryGetPrice("gpt-4.1-mini", out var price).Should().BeTrue();
        (await router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute("catalogued"))).GetCost()!.Amount
            .Should().Be(price!.Estimate(1_000, 1_000, 0, 0));
        (await router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute("device"))).GetCost()!.Amount.Should().Be(0);
        (await router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute("unknown"))).GetCost().Should().BeNull();
    }

    [Fact]
    public async Task Without_reported_usage_the_cost_is_counted_and_marked_estimated()
    {
        using var router = new RouterChatClient([Of("priced", TestChatClient.Answering("four words of answer"), d => new RouteDescriptor(d.Name) { ModelId = "gpt-4o", TokenCounter = OpenAITokenCounters.ForModel("gpt-4o"), Pricing = new RoutePricing(1m, 1m) })]);

        var cost = (await router.GetResponseAsync(Prompt())).GetCost()!;

        cost.IsEstimated.Should().BeTrue();
        cost.InputTokens.Should().BeGreaterThan(0);
        cost.OutputTokens.Should().Be(4);
        cost.Amount.Should().Be((cost.InputTokens + cost.OutputTokens) / 1_000_000m);
    }
}
