using System.Runtime.CompilerServices;
using Xunit.Abstractions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Health;

/// <summary>
/// Fake-clock simulations of the latency estimate: cold starts, routes that turn slow, hang or fail and recover, slow readers,
/// answers of different lengths, quiet apps. Traffic is one call per simulated second unless a test says otherwise.
/// </summary>
public class LatencyEstimationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HangTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_cold_first_sample_is_replaced_so_the_fast_route_wins_from_the_start()
    {
        var sim = new Simulation(("slow", 150), ("fast", 40));
        sim["fast"].ColdExtraMs = 900; // JIT and connection set-up on the route's first call
        sim["slow"].ColdExtraMs = 100;

        var firsts = await sim.CallAsync(50);
        output.WriteLine($"cold start: fast route first on {firsts.Count(r => r == "fast")} of 50 calls");

        firsts.Count(r => r == "fast").Should().BeGreaterThanOrEqualTo(45, string.Join(",", firsts));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_route_that_turns_slow_loses_the_lead_within_ten_calls_and_regains_it_within_a_minute_after_it_recovers(bool streaming)
    {
        var sim = new Simulation(("a", 50), ("b", 200)) { Streaming = streaming };
        (await sim.CallAsync(20)).Skip(4).Should().OnlyContain(r => r == "a");

        sim["a"].LatencyMs = 2_000;
        var afterTurn = await sim.CallAsync(10);
        afterTurn.Should().Contain("b");
        int lost = afterTurn.IndexOf("b");
        output.WriteLine($"turned slow (streaming: {streaming}): tried first {afterTurn.Count(r => r == "a")} time(s) in the next 10 calls");
        afterTurn.Skip(lost).Count(r => r == "a").Should().BeLessThanOrEqualTo(1, "after losing the lead only a probe may try it");

        sim["a"].LatencyMs = 50;
        var regained = await sim.SecondsUntilLeadAsync("a", limit: 120);
        output.WriteLine($"recovered (streaming: {streaming}): lead regained after {regained:F0} s");
        regained.Should().BeLessThanOrEqualTo(60);
    }

    [Fact]
    public async Task A_route_that_hangs_until_the_timeout_loses_the_lead_within_ten_calls_and_regains_it_after_it_recovers()
    {
        var sim = new Simulation(("a", 50), ("b", 200));
        await sim.CallAsync(10);

        sim["a"].Hangs = true;
        var afterHang = await sim.CallAsync(10);
        afterHang.IndexOf("b").Should().BeInRange(0, 9, string.Join(",", afterHang));
        afterHang.Count(r => r == "a").Should().BeLessThanOrEqualTo(2);
        output.WriteLine($"hung: lead lost after {afterHang.IndexOf("b")} call(s), tried first {afterHang.Count(r => r == "a")} time(s) in 10");

        sim["a"].Hangs = false;
        var regained = await sim.SecondsUntilLeadAsync("a", limit: 120);
        output.WriteLine($"recovered from hanging: lead regained after {regained:F0} s");
        regained.Should().BeLessThanOrEqualTo(60);
    }

    [Fact]
    public async Task A_route_that_fails_fast_does_not_look_fast()
    {
        var sim = new Simulation(("a", 50), ("b", 200));
        await sim.CallAsync(10);

        sim["a"].FailsAfterMs = 1;
        var firsts = await sim.CallAsync(10);
        output.WriteLine($"fails fast: tried first {firsts.Count(r => r == "a")} time(s) in 10");

        firsts.Skip(4).Should().OnlyContain(r => r == "b", string.Join(",", firsts));
        sim.Router.GetRoute("a").Health.LatencyMilliseconds.Should().BeGreaterThan(50);
    }

    [Fact]
    public async Task Attempts_still_waiting_count_with_their_age_so_a_hanging_route_loses_the_lead_before_any_attempt_ends()
    {
        var sim = new Simulation(("a", 50), ("b", 200));
        await sim.CallAsync(10);

        var gate = new TaskCompletionSource();
        sim["a"].Gate = gate.Task;
        var hanging = sim.Router.GetResponseAsync(Prompt());
        sim.Time.Advance(TimeSpan.FromSeconds(5));

        sim.Router.Explain(Prompt()).Candidates.First().Route.Should().Be("b");
        sim.Router.GetRoute("a").Health.PredictLatencyMilliseconds(streaming: false).Should().BeApproximately(5_000, 1);

        gate.SetResult();
        await hanging;
        sim.Router.GetRoute("a").Health.InFlight.Should().Be(0);
    }

    [Fact]
    public async Task A_stream_is_measured_by_the_providers_time_not_the_time_the_caller_spends_reading()
    {
        var sim = new Simulation(("instant", 10)) { Streaming = true };
        sim["instant"].Chunks = 20;
        await sim.CallAsync(3, readerDelayPerUpdate: TimeSpan.FromMilliseconds(100));

        var health = sim.Router.GetRoute("instant").Health;
        health.LatencyMilliseconds.Should().BeLessThan(100, "the caller read for 2 s per stream; the provider took 10 ms + 20 × 1 ms");
        health.TimeToFirstTokenMilliseconds.Should().BeApproximately(10, 1);
        health.MillisecondsPerOutputToken.Should().BeApproximately(1, 0.2);
    }

    [Fact]
    public async Task Routes_are_compared_at_the_same_answer_length_when_their_answers_differ_in_length()
    {
        // "verbose" streams fast per token but happened to get long answers; "terse" is slow per token but answered briefly.
        var sim = new Simulation(("verbose", 100), ("terse", 50));
        sim["verbose"].Chunks = 1_000;
        sim["verbose"].PerChunkMs = 1;
        sim["terse"].Chunks = 10;
        sim["terse"].PerChunkMs = 10;
        sim.Streaming = true;
        await sim.CallAsync(4);
        sim.Streaming = false;
        await sim.CallAsync(4, "verbose");
        await sim.CallAsync(4, "terse");

        sim.Router.GetRoute("verbose").Health.LatencyMilliseconds.Should().BeGreaterThan(sim.Router.GetRoute("terse").Health.LatencyMilliseconds, "raw averages favour terse");
        sim.Router.Explain(Prompt(), new ChatOptions().WithPolicy(RoutingPolicies.LowestLatency)).Candidates.First().Route.Should().Be("verbose");
    }

    [Fact]
    public async Task A_quiet_app_spends_at_most_the_exploration_rate_on_probes()
    {
        var sim = new Simulation(("fast", 40), ("slow", 400), ("slower", 800)) { SecondsBetweenCalls = 120 };
        var firsts = await sim.CallAsync(200);
        output.WriteLine($"quiet app: {firsts.Skip(6).Count(r => r != "fast")} probes in 194 calls after warm-up");

        // Warm-up takes two calls per route; then one probe per 20 attempts, whichever slow route it goes to.
        firsts.Skip(6).Count(r => r != "fast").Should().BeInRange(6, 12, string.Join(",", firsts));
    }

    [Fact]
    public async Task Probes_never_go_to_an_excluded_route_or_the_leader()
    {
        var sim = new Simulation(("fast", 40), ("slow", 400), ("eu", 10));
        sim.Options = new ChatOptions().ExcludeTag("region");
        var firsts = await sim.CallAsync(200);

        firsts.Should().NotContain("eu");
        firsts.Skip(4).Count(r => r == "slow").Should().BeInRange(5, 12, "one probe per 20 attempts once stale");
    }

    [Fact]
    public async Task The_max_latency_filter_lets_a_recovered_route_back_in()
    {
        var sim = new Simulation(("a", 50), ("b", 200));
        sim.Options = new ChatOptions().WithMaxLatency(TimeSpan.FromMilliseconds(500));
        await sim.CallAsync(6);
        sim["a"].LatencyMs = 3_000;
        await sim.CallAsync(3);
        sim.Router.Explain(Prompt(), sim.Options).Candidates.Select(c => c.Route).Should().Equal("b");

        sim["a"].LatencyMs = 50;
        var answered = await sim.CallAsync(60);

        answered.Skip(20).Count(r => r == "a").Should().BeGreaterThanOrEqualTo(36, "the route recovered: one probe let it back in (b is probed now and then)");
        sim.Router.Explain(Prompt(), sim.Options).Candidates.Select(c => c.Route).Should().Contain("a");
    }

    [Fact]
    public void Latency_options_are_validated()
    {
        new RouterOptions { LatencyDecayTime = TimeSpan.Zero }.GetValidationErrors().Should().ContainMatch("LatencyDecayTime is 00:00:00*");
        new RouterOptions { LatencyProbeInterval = TimeSpan.FromDays(2) }.GetValidationErrors().Should().ContainMatch("LatencyProbeInterval is 2.00:00:00*");
        FluentActions.Invoking(() => new MaxLatencyFilter(2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probeRate");
    }

    /// <summary>Routes on a fake clock: each call advances the clock by the route's latency; traffic is spaced in simulated time.</summary>
    private sealed class Simulation
    {
        private readonly Dictionary<string, SimulatedRoute> _routes = [];

        public Simulation(params (string Name, double LatencyMs)[] routes)
        {
            foreach (var (name, latency) in routes)
            {
                _routes[name] = new SimulatedRoute(this, latency);
            }

            Router = new RouterChatClient(
                [.. routes.Select(r => Of(r.Name, _routes[r.Name].Client, d => r.Name == "eu"
                    ? new RouteDescriptor(d.Name) { Capabilities = RouteCapabilities.All, Tags = new Dictionary<string, string> { ["region"] = "eu" } }
                    : new RouteDescriptor(d.Name) { Capabilities = RouteCapabilities.All }))],
                new RouterOptions { DefaultPolicy = RoutingPolicies.LowestLatency, AttemptTimeout = TimeSpan.FromMilliseconds(200) },
                timeProvider: Time);
        }

        public FakeTimeProvider Time { get; } = new();

        public RouterChatClient Router { get; }

        public bool Streaming { get; set; }

        public double SecondsBetweenCalls { get; set; } = 1;

        public ChatOptions? Options { get; set; }

        public SimulatedRoute this[string name] => _routes[name];

        /// <summary>Makes <paramref name="count"/> calls; returns the route each one tried first.</summary>
        public async Task<List<string>> CallAsync(int count, string? route = null, TimeSpan readerDelayPerUpdate = default)
        {
            var firsts = new List<string>();
            for (int i = 0; i < count; i++)
            {
                var options = route is null ? Options : (Options?.Clone() ?? new ChatOptions()).WithRoute(route);
                RoutingInfo info;
                if (Streaming)
                {
                    var updates = new List<ChatResponseUpdate>();
                    await foreach (var update in Router.GetStreamingResponseAsync(Prompt(), options))
                    {
                        updates.Add(update);
                        Time.Advance(readerDelayPerUpdate);
                    }

                    info = updates.ToChatResponse().GetRoutingInfo()!;
                }
                else
                {
                    info = (await Router.GetResponseAsync(Prompt(), options)).GetRoutingInfo()!;
                }

                firsts.Add(info.Attempts[0].Route);
                Time.Advance(TimeSpan.FromSeconds(SecondsBetweenCalls));
            }

            return firsts;
        }

        /// <summary>Calls until <paramref name="route"/> is tried first on five calls in a row; returns the simulated seconds that took.</summary>
        public async Task<double> SecondsUntilLeadAsync(string route, int limit)
        {
            var start = Time.GetUtcNow();
            int inARow = 0;
            while ((Time.GetUtcNow() - start).TotalSeconds < limit)
            {
                var first = (await CallAsync(1))[0];
                inARow = first == route ? inARow + 1 : 0;
                if (inARow == 5)
                {
                    return (Time.GetUtcNow() - start).TotalSeconds - (5 * SecondsBetweenCalls);
                }
            }

            return double.PositiveInfinity;
        }
    }

    private sealed class SimulatedRoute
    {
        private readonly Simulation _sim;
        private bool _called;

        public SimulatedRoute(Simulation sim, double latencyMs)
        {
            _sim = sim;
            LatencyMs = latencyMs;
            Client = new TestChatClient
            {
                GetResponseAsyncCallback = async (_, _, ct) =>
                {
                    double ms = await BeforeAnswerAsync(ct) + (Chunks * PerChunkMs);
                    _sim.Time.Advance(TimeSpan.FromMilliseconds(ms));
                    return new ChatResponse(new ChatMessage(ChatRole.Assistant, "answer")) { Usage = new UsageDetails { OutputTokenCount = Chunks } };
                },
                GetStreamingResponseAsyncCallback = (_, _, ct) => StreamAsync(ct),
            };
        }

        public TestChatClient Client { get; }

        /// <summary>Time to the answer (non-streaming: before its tokens) or the first update.</summary>
        public double LatencyMs { get; set; }

        public double ColdExtraMs { get; set; }

        public bool Hangs { get; set; }

        public double FailsAfterMs { get; set; }

        public Task? Gate { get; set; }

        public int Chunks { get; set; } = 1;

        public double PerChunkMs { get; set; } = 1;

        private async Task<double> BeforeAnswerAsync(CancellationToken cancellationToken)
        {
            if (Gate is { } gate)
            {
                await gate.WaitAsync(cancellationToken);
            }

            if (Hangs)
            {
                // Simulated time runs to the timeout while the router's (real, short) attempt timeout fires.
                _sim.Time.Advance(HangTimeout);
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (FailsAfterMs > 0)
            {
                _sim.Time.Advance(TimeSpan.FromMilliseconds(FailsAfterMs));
                throw new HttpRequestException("upstream unavailable", null, System.Net.HttpStatusCode.ServiceUnavailable);
            }

            double extra = _called ? 0 : ColdExtraMs;
            _called = true;
            return LatencyMs + extra;
        }

        private async IAsyncEnumerable<ChatResponseUpdate> StreamAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            _sim.Time.Advance(TimeSpan.FromMilliseconds(await BeforeAnswerAsync(cancellationToken)));
            for (int i = 0; i < Chunks; i++)
            {
                if (i > 0)
                {
                    _sim.Time.Advance(TimeSpan.FromMilliseconds(PerChunkMs));
                }

                yield return new ChatResponseUpdate(ChatRole.Assistant, "x");
            }

            yield return new ChatResponseUpdate { Contents = [new UsageContent(new UsageDetails { OutputTokenCount = Chunks })], FinishReason = ChatFinishReason.Stop };
        }
    }
}
