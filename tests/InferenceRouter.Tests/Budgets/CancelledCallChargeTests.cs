using InferenceRouter.Tests.Integration;
using InferenceRouter.TestServer;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Budgets;

/// <summary>
/// A call whose request reached the provider is charged however it ends — the caller cancelled, it timed out and failed over, it lost a
/// hedge, its reader stopped early — through the real OpenAI SDK against a loopback server that holds its answers. The provider bills
/// what it was sent and all the output it was allowed (it finishes a non-streaming call server-side; a stream generates on until it sees
/// the client go): the ledger may never hold less than that, nor more than its limit.
/// </summary>
public class CancelledCallChargeTests
{
    private const decimal InputPerMillion = 10m;
    private const decimal OutputPerMillion = 30m;
    private const int MaxOutput = 1_000; // under the default UnreceivedOutputAllowance: a cut stream is charged all it may have generated

    private static readonly TimeSpan Held = TimeSpan.FromSeconds(20); // far longer than any test waits: only a cancellation ends it

    [Fact]
    public async Task A_caller_who_cancels_a_call_the_provider_received_is_charged_its_reservation_not_nothing()
    {
        await using var servers = await LoopbackServers.StartAsync("gpt-4.1-mini");
        servers[0].DefaultBehavior = Billing(new ServerBehavior { Latency = Held });
        using var budget = Budget();
        using IChatClient client = new BudgetChatClient(Router(Priced(servers)), budget);
        using var cancel = new CancellationTokenSource();

        var call = client.GetResponseAsync(Prompt("Write a long essay about the sea."), new ChatOptions { MaxOutputTokens = MaxOutput }, cancel.Token);
        await Eventually.TrueAsync(() => servers[0].RequestCount == 1, "the request reached the provider");
        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();

        var spent = await SettledSpendAsync(budget);
        spent.Should().BeGreaterThanOrEqualTo(Billed(servers.Servers), "the provider finishes and bills a call it received; the ledger is never below its invoice");
        var route = (await budget.GetReportAsync()).Routes.Single();
        route.Calls.Should().Be(1);
        route.OutputTokens.Should().Be(MaxOutput, "an unanswered call is charged what was reserved: its whole output limit");
    }

    [Theory]
    [InlineData(0)] // cancelled while the model was still thinking: nothing came yet
    [InlineData(2)] // cancelled after two chunks
    public async Task A_caller_who_cancels_a_stream_is_charged_what_came_and_what_the_provider_generated_after(int chunksBeforeStall)
    {
        await using var servers = await LoopbackServers.StartAsync("gpt-4.1-mini");
        servers[0].DefaultBehavior = Billing(new ServerBehavior { Text = "The sea is wide and deep and old.", Chunks = 8, StallAfterChunks = chunksBeforeStall });
        using var budget = Budget();
        using IChatClient client = new BudgetChatClient(Router(Priced(servers)), budget);
        using var cancel = new CancellationTokenSource();

        int received = 0;
        var reading = Task.Run(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Prompt("Tell me about the sea."), new ChatOptions { MaxOutputTokens = MaxOutput }, cancel.Token))
            {
                if (update.Text.Length > 0 && ++received == chunksBeforeStall)
                {
                    cancel.CancelAfter(100); // the stream is stalled now: the provider is still generating, the caller gives up
                }
            }
        });
        if (chunksBeforeStall == 0)
        {
            await Eventually.TrueAsync(() => servers[0].RequestCount == 1, "the request reached the provider");
            cancel.CancelAfter(100);
        }

        await FluentActions.Awaiting(() => reading).Should().ThrowAsync<OperationCanceledException>();
        received.Should().Be(chunksBeforeStall);
        (await SettledSpendAsync(budget)).Should().BeGreaterThanOrEqualTo(Billed(servers.Servers), "the ledger is never below the provider's invoice");
    }

    [Fact]
    public async Task A_reader_who_disposes_a_stream_early_is_charged_what_came_plus_the_stated_allowance()
    {
        await using var servers = await LoopbackServers.StartAsync("gpt-4.1-mini");
        const string text = "One two three four five six seven eight nine ten eleven twelve.";
        servers[0].DefaultBehavior = Billing(new ServerBehavior { Text = text, Chunks = 12, InterChunkDelay = TimeSpan.FromMilliseconds(200) });
        using var budget = Budget(allowance: 100);
        using IChatClient client = new BudgetChatClient(Router(Priced(servers)), budget);

        string first = string.Empty;
        await foreach (var update in client.GetStreamingResponseAsync(Prompt("Count to twelve."), new ChatOptions { MaxOutputTokens = MaxOutput }))
        {
            if (update.Text.Length > 0)
            {
                first = update.Text;
                break; // disposed after one chunk
            }
        }

        await SettledSpendAsync(budget);
        var route = (await budget.GetReportAsync()).Routes.Single();
        route.Calls.Should().Be(1);
        route.OutputTokens.Should().Be(OpenAITokenCounters.O200kBase.CountTokens(first) + 100, "what came, counted, plus UnreceivedOutputAllowance");
        route.Cost.Should().BeGreaterThan(0m);
    }

    [Fact]
    public async Task An_attempt_that_timed_out_and_failed_over_is_charged_as_well_as_the_route_that_answered()
    {
        await using var servers = await LoopbackServers.StartAsync("gpt-4.1-mini", "gpt-4.1-nano");
        servers[0].DefaultBehavior = Billing(new ServerBehavior { Latency = Held });
        servers[1].DefaultBehavior = Billing(new ServerBehavior());
        using var budget = Budget();
        using IChatClient client = new BudgetChatClient(Router(new RouterOptions { AttemptTimeout = TimeSpan.FromMilliseconds(300) }, Priced(servers)), budget);

        var response = await client.GetResponseAsync(Prompt("Summarise the news."), new ChatOptions { MaxOutputTokens = MaxOutput });

        response.GetRoutingInfo()!.Attempts.Select(a => a.Outcome).Should().Equal(RouteAttemptOutcome.TimedOut, RouteAttemptOutcome.Succeeded);
        var spent = await SettledSpendAsync(budget);
        spent.Should().BeGreaterThanOrEqualTo(Billed(servers.Servers), "the timed-out provider received the request and bills it");
        spent.Should().BeGreaterThan(response.GetCost()!.Amount, "the response's cost is the answering attempt's; the timed-out one is charged besides");
    }

    [Fact]
    public async Task A_hedging_loser_the_provider_received_is_charged_and_listed_as_cancelled()
    {
        await using var servers = await LoopbackServers.StartAsync("gpt-4.1-mini", "gpt-4.1-nano");
        servers[0].DefaultBehavior = Billing(new ServerBehavior { Latency = Held });
        servers[1].DefaultBehavior = Billing(new ServerBehavior());
        using var budget = Budget();
        using IChatClient client = new BudgetChatClient(Router(new RouterOptions { HedgingDelay = TimeSpan.FromMilliseconds(200) }, Priced(servers)), budget);

        var response = await client.GetResponseAsync(Prompt("Summarise the news."), new ChatOptions { MaxOutputTokens = MaxOutput });

        var info = response.GetRoutingInfo()!;
        info.Route.Should().Be("gpt-4.1-nano");
        info.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("gpt-4.1-mini", RouteAttemptOutcome.Cancelled), ("gpt-4.1-nano", RouteAttemptOutcome.Succeeded));
        var spent = await SettledSpendAsync(budget);
        spent.Should().BeGreaterThanOrEqualTo(Billed(servers.Servers), "the losing provider received the request and bills it");
        var loser = (await budget.GetReportAsync()).Routes.Single(r => r.Route == "gpt-4.1-mini");
        loser.OutputTokens.Should().Be(MaxOutput, "the loser is charged what it reserved: its whole output limit");
        spent.Should().Be(response.GetCost()!.Amount + loser.Cost, "the response's cost is the winner's; the loser is charged besides");
    }

    [Fact]
    public async Task A_late_answer_the_router_abandoned_trues_the_charge_up_to_its_usage()
    {
        var answer = new TaskCompletionSource<ChatResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stubborn = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => answer.Task }; // ignores its token, as some SDKs do
        using var budget = Budget();
        using IChatClient client = new BudgetChatClient(Router(Of("slow", stubborn, d => new RouteDescriptor("slow") { ModelId = "m", Pricing = new RoutePricing(InputPerMillion, OutputPerMillion) })), budget);
        using var cancel = new CancellationTokenSource();

        var call = client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = MaxOutput }, cancel.Token);
        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();
        (await budget.Ledger.GetBalancesAsync()).Single().Reserved.Should().BeGreaterThan(0m, "held until the abandoned answer ends");

        answer.SetResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "late")) { Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 200 } });

        (await SettledSpendAsync(budget)).Should().Be(((100 * InputPerMillion) + (200 * OutputPerMillion)) / 1_000_000m, "the late answer's usage replaces the estimate");
    }

    [Theory]
    [InlineData(429, false)] // refused before generating: not billed
    [InlineData(400, false)]
    [InlineData(503, false)] // overloaded
    [InlineData(500, true)]  // the model may have run
    [InlineData(504, true)]
    public async Task A_failed_attempt_is_released_only_when_the_provider_refused_it_before_generating(int status, bool charged)
    {
        await using var servers = await LoopbackServers.StartAsync("gpt-4.1-mini", "gpt-4.1-nano");
        servers[0].DefaultBehavior = ServerBehavior.Error(status);
        servers[1].DefaultBehavior = Billing(new ServerBehavior());
        using var budget = Budget();
        using IChatClient client = new BudgetChatClient(Router(new RouterOptions { FailoverOnNonTransientErrors = true }, Priced(servers)), budget);

        var response = await client.GetResponseAsync(Prompt("Summarise the news."), new ChatOptions { MaxOutputTokens = MaxOutput });

        response.GetRoutingInfo()!.Route.Should().Be("gpt-4.1-nano");
        var spent = await SettledSpendAsync(budget);
        var failed = (await budget.GetReportAsync()).Routes.SingleOrDefault(r => r.Route == "gpt-4.1-mini");
        if (charged)
        {
            failed!.OutputTokens.Should().Be(MaxOutput, "a server error after the request left may follow a run of the model: the reservation is charged");
            spent.Should().Be(response.GetCost()!.Amount + failed.Cost);
        }
        else
        {
            failed.Should().BeNull("a provider that refused the request bills nothing, so its reservation is released");
            spent.Should().Be(response.GetCost()!.Amount);
        }
    }

    [Fact]
    public async Task A_caller_who_cancels_a_call_without_a_router_is_charged_its_reservation()
    {
        await using var server = await FakeProviderServer.StartAsync("gpt-4.1-mini", Billing(new ServerBehavior { Latency = Held }));
        var options = new BudgetOptions { Limits = { new BudgetLimit { Amount = 1m } } };
        options.Prices["gpt-4.1-mini"] = new ModelPrice { InputPerMillion = InputPerMillion, OutputPerMillion = OutputPerMillion };
        using var budget = new BudgetManager(options);
        using IChatClient client = new BudgetChatClient(server.CreateChatClient("gpt-4.1-mini"), budget);
        using var cancel = new CancellationTokenSource();

        var call = client.GetResponseAsync(Prompt("Write a long essay about the sea."), new ChatOptions { MaxOutputTokens = MaxOutput }, cancel.Token);
        await Eventually.TrueAsync(() => server.RequestCount == 1, "the request reached the provider");
        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();

        (await SettledSpendAsync(budget)).Should().BeGreaterThanOrEqualTo(Billed([server]));
    }

    /// <summary>A server that bills what it is sent (o200k) and all the output it is allowed.</summary>
    internal static ServerBehavior Billing(ServerBehavior behavior) => behavior with { Billing = body => BudgetPromiseTests.Bill(body, OpenAITokenCounters.O200kBase) };

    /// <summary>What the servers billed for every request they received: its prompt and its whole output limit.</summary>
    internal static decimal Billed(IEnumerable<FakeProviderServer> servers) => servers.SelectMany(s => s.Requests).Sum(r =>
    {
        var (prompt, completion) = BudgetPromiseTests.Bill(r.Body, OpenAITokenCounters.O200kBase);
        return ((prompt * InputPerMillion) + (completion * OutputPerMillion)) / 1_000_000m;
    });

    /// <summary>Waits until nothing is reserved any more (an abandoned call settles when its SDK lets go), then reads the global spend.</summary>
    internal static async Task<decimal> SettledSpendAsync(BudgetManager budget)
    {
        await Eventually.TrueAsync(async () => (await budget.Ledger.GetBalancesAsync()).All(b => b.Reserved == 0m), "every reservation is settled or released");
        var balance = (await budget.Ledger.GetBalancesAsync()).Single();
        balance.Spent.Should().BeLessThanOrEqualTo(balance.Limit);
        return balance.Spent;
    }

    /// <summary>A budget of 1.00 in one global account, kept in <paramref name="ledger"/> (in memory by default).</summary>
    internal static BudgetManager Budget(int? allowance = null, IBudgetLedger? ledger = null)
    {
        var options = new BudgetOptions { Limits = { new BudgetLimit { Amount = 1m } } };
        if (allowance is { } tokens)
        {
            options.UnreceivedOutputAllowance = tokens;
        }

        return new BudgetManager(options, ledger);
    }

    /// <summary>One route per server, priced, counting with o200k.</summary>
    internal static ChatRoute[] Priced(LoopbackServers servers) => servers.Routes((server, d) => new RouteDescriptor(d.Name)
    {
        ModelId = server.Name,
        Capabilities = RouteCapabilities.All,
        TokenCounter = OpenAITokenCounters.O200kBase,
        Pricing = new RoutePricing(InputPerMillion, OutputPerMillion),
    });
}
