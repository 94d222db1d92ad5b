using InferenceRouter.TestServer;

namespace InferenceRouter.Tests.Integration;

/// <summary>Correctness under load (never speed): every call ends, and the books balance. Runs alone: it saturates the machine.</summary>
[Collection(nameof(LoadTests))]
public class LoadTests
{
    [Fact]
    public async Task Two_thousand_concurrent_calls_through_three_faulty_servers_all_end_and_health_adds_up()
    {
        const int calls = 2000;
        await using var servers = await LoopbackServers.StartAsync("a", "b", "c");
        foreach (var server in servers.Servers)
        {
            var random = new Random(server.Name[0]); // stable seeds: string hashes change per process
            server.Script = _ =>
            {
                double roll;
                int delay;
                lock (random)
                {
                    roll = random.NextDouble();
                    delay = random.Next(0, 30);
                }

                var latency = TimeSpan.FromMilliseconds(delay);
                return roll switch
                {
                    < 0.10 => ServerBehavior.Error(500) with { Latency = latency },
                    < 0.20 => ServerBehavior.Error(503) with { Latency = latency },
                    < 0.29 => ServerBehavior.Error(429) with { Latency = latency },
                    < 0.30 => ServerBehavior.Error(429, retryAfterSeconds: 1) with { Latency = latency },
                    _ => new ServerBehavior { Latency = latency, InterChunkDelay = TimeSpan.FromMilliseconds(delay % 3) },
                };
            };
        }

        // No cooldown after a 429 without Retry-After: this test is about every call ending and the books balancing under random faults,
        // and with 9% of answers 429 a cooldown would (rightly) take all three routes out within the first few calls.
        using var router = new RouterChatClient(servers.Routes(), new RouterOptions { DefaultPolicy = RoutingPolicies.PowerOfTwoChoices, RateLimitCooldown = TimeSpan.Zero });
        int succeeded = 0, allFailed = 0;

        var tasks = Enumerable.Range(0, calls).Select(async i =>
        {
            try
            {
                var response = i % 2 == 0
                    ? await router.GetResponseAsync(Routes.Prompt($"call {i}"))
                    : await router.GetStreamingResponseAsync(Routes.Prompt($"call {i}")).ToChatResponseAsync();
                response.Text.Should().StartWith("Hello from ");
                response.GetRoutingInfo()!.Route.Should().Be(response.Text["Hello from ".Length..]);
                Interlocked.Increment(ref succeeded);
            }
            catch (AllRoutesFailedException)
            {
                Interlocked.Increment(ref allFailed);
            }
        });

        // None hangs: a generous bound, not a speed assertion.
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(3));

        (succeeded + allFailed).Should().Be(calls);
        succeeded.Should().BeGreaterThan(calls / 2, "with three routes at 30% failure most calls find a healthy one");
        var health = router.GetHealth();
        health.Should().OnlyContain(h => h.InFlight == 0);
        health.Should().OnlyContain(h => h.Attempts == h.Successes + h.Failures + h.Cancellations + h.RequestErrors);
        health.Sum(h => h.Successes).Should().Be(succeeded, "each successful call has exactly one successful attempt");
        foreach (var (server, snapshot) in servers.Servers.Zip(health))
        {
            snapshot.Attempts.Should().Be(server.RequestCount, $"every attempt on {server.Name} is one HTTP request: no hidden retries");
        }
    }
}

/// <summary>Keeps the load test from running beside timing-sensitive integration tests.</summary>
[CollectionDefinition(nameof(LoadTests), DisableParallelization = true)]
public sealed class LoadTestsCollection;
