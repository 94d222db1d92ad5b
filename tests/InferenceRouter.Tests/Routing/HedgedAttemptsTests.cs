using InferenceRouter.Tests.Integration;
using InferenceRouter.TestServer;

namespace InferenceRouter.Tests.Routing;

/// <summary><see cref="RoutingInfo.Attempts"/> lists every attempt of a hedged call, the losers cancelled by hedging included, in the order they started.</summary>
public class HedgedAttemptsTests
{
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 3)]
    [InlineData(true, 4)]
    public async Task Every_hedged_attempt_is_listed_with_its_outcome_route_and_time(bool streaming, int seed)
    {
        var random = new Random(seed);
        await using var servers = await LoopbackServers.StartAsync("a", "b", "c");
        for (int call = 0; call < 6; call++)
        {
            foreach (var server in servers.Servers)
            {
                var wait = TimeSpan.FromMilliseconds(random.Next(0, 400));
                server.DefaultBehavior = random.Next(5) == 0
                    ? ServerBehavior.Error(503)
                    : streaming ? new ServerBehavior { TimeToFirstToken = wait } : new ServerBehavior { Latency = wait };
            }

            var options = new RouterOptions { HedgingDelay = TimeSpan.FromMilliseconds(random.Next(5, 150)), MaxHedgedAttempts = 3, CircuitBreaker = { Enabled = false } };
            using var router = new RouterChatClient(servers.Routes(), options);
            var started = DateTime.UtcNow;

            ChatResponse response;
            try
            {
                response = streaming ? await router.GetStreamingResponseAsync(Routes.Prompt()).ToChatResponseAsync() : await router.GetResponseAsync(Routes.Prompt());
            }
            catch (AllRoutesFailedException failed)
            {
                failed.Attempts.Should().OnlyContain(a => a.Outcome == RouteAttemptOutcome.Failed);
                continue;
            }

            var elapsed = DateTime.UtcNow - started;
            var info = response.GetRoutingInfo()!;
            var because = $"call {call}, delay {options.HedgingDelay}: {string.Join("; ", info.Attempts)}";

            // Each attempt the router started (its health counted it) is listed once, whatever became of it.
            foreach (var route in router.Routes)
            {
                info.Attempts.Count(a => a.Route == route.Name && a.Outcome != RouteAttemptOutcome.Skipped).Should().Be((int)route.Health.GetSnapshot().Attempts, because);
            }

            info.Attempts.Should().ContainSingle(a => a.Outcome == RouteAttemptOutcome.Succeeded, because).Which.Route.Should().Be(info.Route);
            info.Attempts.Should().OnlyContain(a => a.Outcome == RouteAttemptOutcome.Succeeded || a.Outcome == RouteAttemptOutcome.Failed || a.Outcome == RouteAttemptOutcome.Cancelled, because);
            info.Attempts.Should().OnlyContain(a => a.Duration >= TimeSpan.Zero && a.Duration <= elapsed + TimeSpan.FromSeconds(1), because);
            info.Attempts.Where(a => a.Outcome == RouteAttemptOutcome.Cancelled).All(a => a.Error == null).Should().BeTrue(because);
            if (info.Attempts.Any(a => a.Outcome == RouteAttemptOutcome.Cancelled))
            {
                info.Hedged.Should().BeTrue(because);
            }

            info.Attempts.Select(a => a.Route).Should().Equal(info.Attempts.Select(a => a.Route).OrderBy(r => r, StringComparer.Ordinal), "attempts are listed in the order they started (a, then b, then c): " + because);

            foreach (var server in servers.Servers.Where(s => !s.Requests.IsEmpty))
            {
                info.Attempts.Should().Contain(a => a.Route == server.Name, "every route that received the call is listed: " + because);
            }

            await Eventually.TrueAsync(() => router.GetHealth().All(h => h.InFlight == 0 && h.Attempts == h.Successes + h.Failures + h.Cancellations + h.RequestErrors), "the losers end and are accounted for");
            foreach (var server in servers.Servers)
            {
                await Eventually.TrueAsync(() => server.ActiveRequests == 0, "the loser's request ends");
                server.Requests.Clear();
            }
        }
    }

    [Fact]
    public async Task A_loser_still_running_when_the_winner_answers_is_listed_as_cancelled_by_hedging()
    {
        await using var servers = await LoopbackServers.StartAsync("slow", "fast");
        servers[0].DefaultBehavior = new ServerBehavior { Latency = TimeSpan.FromSeconds(30) };
        using var router = new RouterChatClient(servers.Routes(), new RouterOptions { HedgingDelay = TimeSpan.FromMilliseconds(50) });

        foreach (bool streaming in new[] { false, true })
        {
            var response = streaming ? await router.GetStreamingResponseAsync(Routes.Prompt()).ToChatResponseAsync() : await router.GetResponseAsync(Routes.Prompt());

            var info = response.GetRoutingInfo()!;
            info.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("slow", RouteAttemptOutcome.Cancelled), ("fast", RouteAttemptOutcome.Succeeded));
            info.Attempts[0].Duration.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40), "the loser ran at least the hedging delay").And.BeLessThan(TimeSpan.FromSeconds(20));
            info.AttemptCount.Should().Be(2);
        }
    }
}
