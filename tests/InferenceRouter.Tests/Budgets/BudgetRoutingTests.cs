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
        second.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("premium", RouteAttemptOutcome.OverBudget), ("cheap", RouteAttemptOutcome.Succeeded));
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

    [Fact]
    public async Task Ten_thousand_concurrent_calls_never_overspend_and_every_settled_cost_is_in_the_ledger()
    {
        using var ledger = new InMemoryBudgetLedger();
        var invariant = LedgerInvariant.Watch(ledger);

        ChatRoute Route(string name, decimal input, decimal output) => Of(name, RandomUsageClient(), d => new RouteDescriptor(name) { ModelId = name, Pricing = new RoutePricing(input, output), Capabilities = RouteCapabilities.All });
        var routes = new[] { Route("big", 5m, 15m), Route("small", 0.5m, 1.5m) };
        using var budget = Budget(
            ledger,
            new BudgetLimit { Scope = BudgetScope.Global, Amount = 2m, Enforcement = BudgetEnforcement.Downgrade },
            new BudgetLimit { Scope = BudgetScope.Tenant, Amount = 0.4m, Enforcement = BudgetEnforcement.Downgrade },
            new BudgetLimit { Scope = BudgetScope.Route, Key = "big", Window = BudgetWindow.Rolling, RollingHours = 1, Amount = 1m, Enforcement = BudgetEnforcement.Downgrade });
        using IChatClient client = new BudgetChatClient(new RouterChatClient(routes, new RouterOptions { DefaultPolicy = RoutingPolicies.Priority }), budget);

        decimal charged = 0m;
        int answered = 0, refused = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var options = new ChatOptions { MaxOutputTokens = 1 + (i % 500) }.ForTenant("t" + (i % 8));
            try
            {
                CallCost? cost = i % 3 == 0
                    ? (await client.GetStreamingResponseAsync(Prompt(), options).ToListAsync())[^1].GetCost()
                    : (await client.GetResponseAsync(Prompt(), options)).GetCost();
                lock (routes)
                {
                    charged += cost!.Amount;
                    answered++;
                }
            }
            catch (BudgetExceededException)
            {
                Interlocked.Increment(ref refused);
            }
        });

        invariant.Violations.Should().Be(0, "no account may ever hold more than its limit");
        answered.Should().BeGreaterThan(500);
        refused.Should().BeGreaterThan(0, "the limits are tight");
        var balances = await ledger.GetBalancesAsync();
        balances.Should().OnlyContain(b => b.Reserved == 0m);
        balances.Single(b => b.Key.Limit == "global/lifetime").Spent.Should().Be(charged);
        balances.Where(b => b.Key.Limit == "tenant/lifetime").Sum(b => b.Spent).Should().Be(charged);
        (await budget.GetReportAsync()).TotalCost.Should().Be(charged);
        ledger.OutstandingReservations.Should().Be(0);
    }

    /// <summary>Answers with random usage never above the call's output limit (so no call costs more than its reservation).</summary>
    private static TestChatClient RandomUsageClient() => new()
    {
        GetResponseAsyncCallback = async (messages, options, _) =>
        {
            await Task.Yield();
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { Usage = RandomUsage(options) };
        },
        GetStreamingResponseAsyncCallback = (messages, options, token) => BudgetChatClientTests.Stream("a b", RandomUsage(options), token),
    };

    private static UsageDetails RandomUsage(ChatOptions? options) => new()
    {
        InputTokenCount = Random.Shared.Next(1, 5),
        OutputTokenCount = Random.Shared.Next(0, (options?.MaxOutputTokens ?? 1) + 1),
    };
}
