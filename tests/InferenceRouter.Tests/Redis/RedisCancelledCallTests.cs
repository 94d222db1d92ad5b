using InferenceRouter.Tests.Budgets;
using InferenceRouter.Tests.Integration;
using InferenceRouter.TestServer;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Redis;

/// <summary>
/// A shared ledger settles a call whose request reached the provider as the in-memory one does: a caller's cancellation, a hedging
/// loser and a stream its reader left early are charged in Redis, never released (the real OpenAI SDK, a loopback server, redis-server).
/// </summary>
public sealed class RedisCancelledCallTests
{
    [RedisTheory]
    [InlineData("caller cancels")]
    [InlineData("hedging loser")]
    [InlineData("reader leaves the stream")]
    public async Task A_call_the_provider_received_is_charged_in_Redis_however_it_ended(string ending)
    {
        await using var redisServer = await RedisServer.StartAsync();
        using var redis = await redisServer.ConnectAsync();
        await using var servers = await LoopbackServers.StartAsync("gpt-4.1-mini", "gpt-4.1-nano");
        servers[0].DefaultBehavior = CancelledCallChargeTests.Billing(ending == "reader leaves the stream"
            ? new ServerBehavior { Text = "One two three four five six.", Chunks = 6, InterChunkDelay = TimeSpan.FromMilliseconds(200) }
            : new ServerBehavior { Latency = TimeSpan.FromSeconds(20) });
        servers[1].DefaultBehavior = CancelledCallChargeTests.Billing(new ServerBehavior());
        using var budget = CancelledCallChargeTests.Budget(ledger: new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "cancel" }));
        var routerOptions = ending == "hedging loser" ? new RouterOptions { HedgingDelay = TimeSpan.FromMilliseconds(200) } : new RouterOptions();
        using IChatClient client = new BudgetChatClient(Router(routerOptions, CancelledCallChargeTests.Priced(servers)), budget);
        var options = new ChatOptions { MaxOutputTokens = 1_000 };

        switch (ending)
        {
            case "caller cancels":
                using (var cancel = new CancellationTokenSource())
                {
                    var call = client.GetResponseAsync(Prompt("Write a long essay about the sea."), options, cancel.Token);
                    await Eventually.TrueAsync(() => servers[0].RequestCount == 1, "the request reached the provider");
                    await cancel.CancelAsync();
                    await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();
                }

                break;
            case "hedging loser":
                (await client.GetResponseAsync(Prompt("Summarise the news."), options)).GetRoutingInfo()!.Route.Should().Be("gpt-4.1-nano");
                break;
            default:
                await foreach (var update in client.GetStreamingResponseAsync(Prompt("Count."), options))
                {
                    if (update.Text.Length > 0)
                    {
                        break;
                    }
                }

                break;
        }

        servers[0].RequestCount.Should().Be(1);
        (await CancelledCallChargeTests.SettledSpendAsync(budget)).Should().BeGreaterThanOrEqualTo(CancelledCallChargeTests.Billed(servers.Servers), "the shared ledger is never below the invoice either");
    }
}
