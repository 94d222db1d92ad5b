using InferenceRouter.Tests.Integration;
using InferenceRouter.TestServer;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Budgets;

/// <summary>Budgets inside routing: the real OpenAI SDK against loopback servers, a free local route, and a high-concurrency exactness check.</summary>
public class BudgetRoutingTests
{
    private static BudgetManager Budget(IBudgetLedger? ledger = null, params BudgetLimit[] limits)
    {
        var options = new BudgetOptions();
        options.Limits.AddRange(limits);
        return new BudgetManager(options, ledger);
    }

    private static async Task<(LoopbackServers Servers, ChatRoute[] Routes)> PremiumCheapLocalAsync()
    {
        var servers = await LoopbackServers.StartAsync("premium", "cheap");
        servers[0].DefaultBehavior = new ServerBehavior { PromptTokens = 10, CompletionTokens = 900 };
        servers[1].DefaultBehavior = new ServerBehavior { PromptTokens = 10, CompletionTokens = 1000 };
        var remote = servers.Routes((server, d) => new RouteDescriptor(d.Name)
        {
            ModelId = d.ModelId,
            Provider = d.Provider,
            Capabilities = d.Capabilities,
            Pricing = server.Name == "premium" ? new RoutePricing(10m, 30m) : new RoutePricing(1m, 20m),
        });
        var local = Of("local", TestChatClient.Answering("from the device"), d => new RouteDescriptor(d.Name) { ModelId = "tiny", IsLocal = true, Capabilities = RouteCapabilities.All });
        return (servers, [.. remote, local]);
    }

    [Fact]
    public async Task A_downgrade_limit_moves_calls_to_a_cheaper_route_then_to_the_local_one()
    {
        var (servers, routes) = await PremiumCheapLocalAsync();
        await using var _ = servers;
        using var budget = Budget(limits: new BudgetLimit { Scope = BudgetScope.Tenant, Window = BudgetWindow.Day, Amount = 0.05m, Enforcement = BudgetEnforcement.Downgrade });
        using IChatClient client = new BudgetChatClient(new RouterChatClient(routes), budget);
        var options = new ChatOptions { MaxOutputTokens = 1000 }.ForTenant("acme");

        var first = await client.GetResponseAsync(Prompt(), options);   // premium: worst 0.0301 fits; costs 0.0271
        var second = await client.GetResponseAsync(Prompt(), options);  // premium no longer fits; cheap (worst 0.02001) does
        var third = await client.GetResponseAsync(Prompt(), options);   // neither remote fits: the free local route answers

        first.GetRoutingInfo()!.Route.Should().Be("premium");
        first.GetCost()!.Amount.Should().Be(((10 * 10m) + (900 * 30m)) / 1_000_000m);
        second.GetRoutingInfo()!.Route.Should().Be("cheap");
        second.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("premium", RouteAttemptOutcome.NotAdmitted), ("cheap", RouteAttemptOutcome.Succeeded));
        third.Text.Should().Be("from the device");
        third.GetRoutingInfo()!.IsLocal.Should().BeTrue();
        third.GetCost()!.Amount.Should().Be(0m);
        servers.Servers.Select(s => s.RequestCount).Should().Equal(1, 1);

        var account = (await budget.Ledger.GetBalancesAsync()).Single();
        account.Spent.Should().Be(first.GetCost()!.Amount + second.GetCost()!.Amount);
        account.Reserved.Should().Be(0m);
        var report = await budget.GetReportAsync();
        report.Routes.Select(r => r.Route).Should().BeEquivalentTo(["premium", "cheap", "local"]);
        report.Routes.Single(r => r.Route == "premium").CostPerMillionTokens.Should().Be(first.GetCost()!.Amount * 1_000_000m / 910);
    }

    [Fact]
    public async Task A_reject_limit_fails_the_call_before_any_provider_is_called()
    {
        var (servers, routes) = await PremiumCheapLocalAsync();
        await using var _ = servers;
        using var budget = Budget(limits: new BudgetLimit { Scope = BudgetScope.User, Amount = 0.001m });
        using IChatClient client = new BudgetChatClient(new RouterChatClient(routes), budget);

        var act = () => client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 1000 }.WithRoutingHints(new RoutingHints { User = "bob" }));

        var error = (await act.Should().ThrowAsync<BudgetExceededException>()).Which;
        error.Route.Should().Be("premium");
        error.Message.Should().Contain("user 'bob'").And.Contain("on route 'premium'");
        servers.Servers.Sum(s => s.RequestCount).Should().Be(0);
    }

    [Fact]
    public async Task When_no_candidate_fits_a_downgrade_limit_the_budget_error_surfaces()
    {
        var (servers, routes) = await PremiumCheapLocalAsync();
        await using var _ = servers;
        using var budget = Budget(limits: new BudgetLimit { Scope = BudgetScope.Global, Amount = 0.0001m, Enforcement = BudgetEnforcement.Downgrade });
        using IChatClient client = new BudgetChatClient(new RouterChatClient(routes[..2]), budget);

        await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 1000 }))
            .Should().ThrowAsync<BudgetExceededException>().WithMessage("*global*limit 0.0001*");
    }

    [Fact]
    public async Task A_routed_stream_settles_from_the_providers_usage_on_its_last_update()
    {
        var (servers, routes) = await PremiumCheapLocalAsync();
        await using var _ = servers;
        using var budget = Budget(limits: new BudgetLimit { Amount = 1m });
        using IChatClient client = new BudgetChatClient(new RouterChatClient(routes), budget);

        var updates = await client.GetStreamingResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 1000 }).ToListAsync();

        var cost = updates[^1].GetCost()!;
        cost.Route.Should().Be("premium");
        cost.IsEstimated.Should().BeFalse("the OpenAI client asks for usage in the stream");
        cost.OutputTokens.Should().Be(900);
        (await budget.Ledger.GetBalancesAsync()).Single().Should().Match<BudgetAccountBalance>(b => b.Spent == cost.Amount && b.Reserved == 0m);
    }

    [Fact]
    public async Task A_hedging_loser_that_answered_anyway_is_charged_once()
    {
        var release = new TaskCompletionSource();
        var slow = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, _) =>
            {
                await release.Task; // ignores cancellation: the provider finished (and billed) regardless
                return new ChatResponse(new ChatMessage(ChatRole.Assistant, "slow")) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 10 } };
            },
        };
        var fast = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, _) =>
            {
                await Task.Delay(50);
                return new ChatResponse(new ChatMessage(ChatRole.Assistant, "fast")) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 20 } };
            },
        };
        var priced = (string name, IChatClient c) => Of(name, c, d => new RouteDescriptor(name) { ModelId = name, Pricing = new RoutePricing(1m, 1m), Capabilities = RouteCapabilities.All });
        using var budget = Budget(limits: new BudgetLimit { Amount = 1m });
        using IChatClient client = new BudgetChatClient(
            new RouterChatClient([priced("slow", slow), priced("fast", fast)], new RouterOptions { HedgingDelay = TimeSpan.FromMilliseconds(10) }), budget);

        var response = await client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 100 });
        response.Text.Should().Be("fast");
        release.SetResult();

        await Eventually.TrueAsync(() => budget.Ledger.GetBalancesAsync().AsTask().Result.Single().Reserved == 0m, "the loser settles when it finishes");
        var balance = (await budget.Ledger.GetBalancesAsync()).Single();
        balance.Spent.Should().Be(0.00005m, "30 tokens for the winner and 20 for the loser, each once");
        (await budget.GetReportAsync()).Routes.Sum(r => r.Calls).Should().Be(2);
    }
}
