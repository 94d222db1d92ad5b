using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceRouter.Tests.Routing;

/// <summary>
/// What a stream (and a plain call) tells the caller, <see cref="RoutingInfo"/>, the route's health and its circuit breaker when the
/// provider misbehaves, on every provider: routes built from configuration only (the OpenAI, Anthropic and OllamaSharp clients the
/// provider packages build), against loopback servers sending exact bytes. Route <c>a</c> misbehaves, route <c>b</c> (same provider)
/// is healthy: before the first update a failure fails over to it, after it the caller gets an exception after the updates it got.
/// The three providers of a cell run at once; every call has a generous bound, so a hang fails the test instead of stalling it.
/// </summary>
public class StreamTruthMatrixTests
{
    private static readonly TimeSpan FirstTokenTimeout = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(800);
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);

    public static readonly string[] Providers = ["OpenAICompatible", "Anthropic", "Ollama"];

    [Fact]
    public Task An_error_event_before_the_first_token_fails_over_and_counts_against_the_route() => OnEveryProvider(async (provider, random) =>
    {
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior { RawBody = Wire.Opening(provider) + Wire.Error(provider), RawContentType = Wire.ContentType(provider) });
        for (int call = 0; call < 2; call++)
        {
            var (text, info, error) = await cell.StreamAsync();
            error.Should().BeNull();
            text.Should().Be("Hello from good");
            info!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("a", RouteAttemptOutcome.Failed), ("b", RouteAttemptOutcome.Succeeded));
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == 2 && h.Successes == 0 && h.InFlight == 0);
        await cell.CircuitBecomesAsync("a", RouteCircuitState.Open);
    });

    [Fact]
    public Task An_error_event_after_the_first_token_surfaces_after_the_updates_the_caller_got() => OnEveryProvider(async (provider, random) =>
    {
        var pieces = Words(random, random.Next(1, 4));
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior
        {
            RawBody = Wire.Opening(provider) + string.Concat(pieces.Select(p => Wire.Chunk(provider, p))) + Wire.Error(provider),
            RawContentType = Wire.ContentType(provider),
        });
        for (int call = 0; call < 2; call++)
        {
            var (text, info, error) = await cell.StreamAsync();
            text.Should().Be(string.Concat(pieces), "the caller keeps what it got");
            error.Should().NotBeNull("an error event after the first token is not a complete answer").And.NotBeOfType<OperationCanceledException>();
            info.Should().BeNull("no last update says the call succeeded");
            var attempts = error!.GetRoutingInfo()!.Attempts;
            attempts.Select(a => (a.Route, a.Outcome, a.StatusCode, a.Failure)).Should().Equal(("a", RouteAttemptOutcome.Failed, Wire.ErrorStatus(provider), FailureKind.Transient));
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == 2 && h.Successes == 0 && h.InFlight == 0);
        await cell.CircuitBecomesAsync("a", RouteCircuitState.Open);
        cell.GoodRequests.Should().Be(0, "a stream never fails over after its first update");
    });

    [Fact]
    public Task An_error_event_after_the_finish_fails_the_stream_it_ends() => OnEveryProvider(async (provider, random) =>
    {
        // The answer looks whole (content, then the finish reason), but the provider then reports an error before its end marker.
        var pieces = Words(random, random.Next(1, 4));
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior
        {
            RawBody = Wire.Opening(provider) + string.Concat(pieces.Select(p => Wire.Chunk(provider, p))) + Wire.Finish(provider) + Wire.Error(provider) + Wire.Done(provider),
            RawContentType = Wire.ContentType(provider),
        });
        for (int call = 0; call < 2; call++)
        {
            var (text, info, error) = await cell.StreamAsync();
            text.Should().Be(string.Concat(pieces), "the caller keeps what it got");
            error.Should().NotBeNull("an error event after the finish reason is not a complete answer").And.NotBeAssignableTo<OperationCanceledException>();
            info.Should().BeNull("no last update says the call succeeded");
            error!.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome, a.StatusCode, a.Failure)).Should().Equal(("a", RouteAttemptOutcome.Failed, Wire.ErrorStatus(provider), FailureKind.Transient));
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == 2 && h.Successes == 0 && h.InFlight == 0);
        await cell.CircuitBecomesAsync("a", RouteCircuitState.Open);
        cell.GoodRequests.Should().Be(0);
    });

    [Fact]
    public Task The_end_of_a_stream_without_an_error_still_succeeds() => OnEveryProvider(async (provider, random) =>
    {
        // The control of the cell above: the same bytes without the error event are a whole answer.
        var pieces = Words(random, random.Next(1, 4));
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior
        {
            RawBody = Wire.Opening(provider) + string.Concat(pieces.Select(p => Wire.Chunk(provider, p))) + Wire.Finish(provider) + Wire.Done(provider),
            RawContentType = Wire.ContentType(provider),
        });
        var (text, info, error) = await cell.StreamAsync();
        error.Should().BeNull();
        text.Should().Be(string.Concat(pieces));
        info!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("a", RouteAttemptOutcome.Succeeded));
    });

    [Fact]
    public Task A_rate_limit_after_the_first_token_is_reported_as_a_rate_limit() => OnEveryProvider(async (provider, random) =>
    {
        var pieces = Words(random, random.Next(1, 4));
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior
        {
            RawBody = Wire.Opening(provider) + string.Concat(pieces.Select(p => Wire.Chunk(provider, p))) + Wire.RateLimit(provider),
            RawContentType = Wire.ContentType(provider),
        });
        var (text, info, error) = await cell.StreamAsync();
        text.Should().Be(string.Concat(pieces));
        error.Should().NotBeNull();
        var (status, kind) = Wire.RateLimitAs(provider);
        error!.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome, a.StatusCode, a.Failure)).Should().Equal(("a", RouteAttemptOutcome.Failed, status, kind));
    });

    [Fact]
    public Task A_stream_cut_before_its_end_marker_is_a_failure_no_layer_takes_for_an_answer() => OnEveryProvider(async (provider, random) =>
    {
        var pieces = Words(random, random.Next(1, 4));
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior
        {
            // The connection closes cleanly after the chunks: no finish_reason / [DONE], no message_delta / message_stop, no done: true.
            RawBody = Wire.Opening(provider) + string.Concat(pieces.Select(p => Wire.Chunk(provider, p))),
            RawContentType = Wire.ContentType(provider),
        });
        for (int call = 0; call < 2; call++)
        {
            var (text, info, error) = await cell.StreamAsync();
            text.Should().Be(string.Concat(pieces));
            error.Should().BeOfType<InvalidResponseException>().Which.Message.Should().Contain("cut off")
                .And.Contain($"after {cell.UpdatesReceived} update(s)", "the message counts what the caller got");
            info.Should().BeNull();
            error!.GetRoutingInfo()!.Attempts.Single().Should().Match<RouteAttempt>(a => a.Outcome == RouteAttemptOutcome.Failed && a.Failure == FailureKind.Transient);
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == 2 && h.Successes == 0 && h.InFlight == 0);
        await cell.CircuitBecomesAsync("a", RouteCircuitState.Open);
        cell.GoodRequests.Should().Be(0);
    });

    [Fact]
    public Task A_cut_stream_is_never_cached_is_charged_for_what_arrived_and_can_record_no_quality_outcome() => OnEveryProvider(async (provider, random) =>
    {
        var pieces = Words(random, random.Next(1, 4));
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior
        {
            RawBody = Wire.Opening(provider) + string.Concat(pieces.Select(p => Wire.Chunk(provider, p))),
            RawContentType = Wire.ContentType(provider),
        }, layers: true);
        using var predictor = new QualityPredictor(new QualityPredictorOptions { TierCount = 2 });

        for (int call = 1; call <= 2; call++)
        {
            var updates = new List<ChatResponseUpdate>();
            var error = await Record.ExceptionAsync(async () =>
            {
                await foreach (var update in cell.Client.GetStreamingResponseAsync("What is the answer?"))
                {
                    updates.Add(update);
                }
            });
            error.Should().BeOfType<InvalidResponseException>();
            cell.Bad.RequestCount.Should().Be(call, "the cut answer was not stored: the same question goes to the provider again");

            // What the app holds is not a routed answer: no tier to learn from.
            var partial = updates.ToChatResponse();
            partial.Text.Should().Be(string.Concat(pieces));
            partial.GetRoutingInfo().Should().BeNull();
            await FluentActions.Awaiting(() => predictor.RecordOutcomeAsync([new ChatMessage(ChatRole.User, "What is the answer?")], partial, 1)).Should().ThrowAsync<InvalidOperationException>();
        }

        var report = await cell.Budget.GetReportAsync();
        report.Accounts.Should().OnlyContain(a => a.Reserved == 0, "nothing stays reserved");
        report.Routes.Single(r => r.Route == "a").Should().Match<RouteSpend>(r => r.Calls == 2 && r.OutputTokens > 0 && r.Cost > 0, "each cut stream is charged for what arrived");

        // The same pipeline stores a complete answer: the second identical call is a hit.
        for (int call = 0; call < 2; call++)
        {
            var whole = await cell.Client.GetStreamingResponseAsync("Hello?", new ChatOptions().WithRoute("b")).ToChatResponseAsync();
            whole.Text.Should().Be("Hello from good");
            whole.GetRoutingInfo()!.CacheHit.Should().Be(call == 0 ? null : CacheTier.Exact);
        }
    });

    [Fact]
    public Task Headers_then_silence_times_out_at_the_first_token_timeout_and_fails_over() => OnEveryProvider(async (provider, random) =>
    {
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior { RawBody = string.Empty, RawContentType = Wire.ContentType(provider), StallAfterBody = true }, shortTimeouts: true);
        for (int call = 0; call < 2; call++)
        {
            var (text, info, error) = await cell.StreamAsync();
            error.Should().BeNull();
            text.Should().Be("Hello from good");
            info!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("a", RouteAttemptOutcome.TimedOut), ("b", RouteAttemptOutcome.Succeeded));
            info.Attempts[0].Error.Should().BeOfType<TimeoutException>().Which.Message.Should().Contain($"TimeToFirstTokenTimeout ({FirstTokenTimeout})");
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == 2 && h.InFlight == 0);
        await cell.CircuitBecomesAsync("a", RouteCircuitState.Open);
        await Eventually.TrueAsync(() => cell.Bad.AbortedRequests == 2, $"{provider}: the abandoned requests are closed, not left hanging");
    });

    [Fact]
    public Task One_token_then_silence_surfaces_a_timeout_naming_the_attempt_timeout_after_the_token() => OnEveryProvider(async (provider, random) =>
    {
        var piece = Words(random, 1)[0];
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior
        {
            RawBody = Wire.Opening(provider) + Wire.Chunk(provider, piece),
            RawContentType = Wire.ContentType(provider),
            StallAfterBody = true,
        }, shortTimeouts: true);
        for (int call = 0; call < 2; call++)
        {
            var (text, info, error) = await cell.StreamAsync();
            text.Should().Be(piece);
            error.Should().BeOfType<TimeoutException>().Which.Message.Should().Contain($"AttemptTimeout ({AttemptTimeout})");
            info.Should().BeNull();
            error!.GetRoutingInfo()!.Attempts.Single().Should().Match<RouteAttempt>(a => a.Outcome == RouteAttemptOutcome.TimedOut && a.Failure == FailureKind.Transient);
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == 2 && h.Successes == 0 && h.InFlight == 0);
        await cell.CircuitBecomesAsync("a", RouteCircuitState.Open);
        cell.GoodRequests.Should().Be(0);
        await Eventually.TrueAsync(() => cell.Bad.AbortedRequests == 2, $"{provider}: the abandoned requests are closed, not left hanging");
    });

    [Fact]
    public Task A_slow_reader_never_fails_a_call_nor_harms_the_route() => OnEveryProvider(async (provider, random) =>
    {
        // Fast provider, slow caller: six updates read 250 ms apart take longer than AttemptTimeout, none of it the provider's time.
        await using var cell = await Cell.StartAsync(provider, new ServerBehavior { Text = "Hello from a slow reader's route", Chunks = 6 }, shortTimeouts: true);
        for (int call = 0; call < 2; call++)
        {
            var (text, info, error) = await cell.StreamAsync(readDelay: TimeSpan.FromMilliseconds(250));
            error.Should().BeNull();
            text.Should().Be("Hello from a slow reader's route");
            info!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("a", RouteAttemptOutcome.Succeeded));
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Successes == 2 && h.Failures == 0 && h.InFlight == 0);
        await cell.RouteStillAnswersAsync();
    });

    [Fact]
    public Task A_caller_cancelling_mid_stream_stops_it_at_once_as_a_cancellation_not_a_failure() => OnEveryProvider(async (provider, random) =>
    {
        // The provider would take 10 s more; the caller cancels after its first text.
        await using var cell = await Cell.StartAsync(provider, ServerBehavior.Ok);
        cell.Bad.Script = n => n <= 2 ? new ServerBehavior { Chunks = 6, InterChunkDelay = TimeSpan.FromSeconds(2) } : ServerBehavior.Ok;
        for (int call = 0; call < 2; call++)
        {
            using var cancel = new CancellationTokenSource();
            var (text, info, error) = await cell.StreamAsync(cancel: cancel);
            text.Should().NotBeEmpty();
            error.Should().BeAssignableTo<OperationCanceledException>();
            info.Should().BeNull();
            error!.GetRoutingInfo()!.Attempts.Single().Outcome.Should().Be(RouteAttemptOutcome.Cancelled);
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 2 && h.Failures == 0 && h.Successes == 0 && h.InFlight == 0);
        cell.GoodRequests.Should().Be(0);
        await Eventually.TrueAsync(() => cell.Bad.AbortedRequests == 2, $"{provider}: the cancelled requests are closed");
        await cell.RouteStillAnswersAsync();
    });

    [Fact]
    public Task A_first_token_near_its_deadline_either_times_out_and_fails_over_or_streams_to_the_end() => OnEveryProvider(async (provider, random) =>
    {
        // The first update arrives around TimeToFirstTokenTimeout; AttemptTimeout is long, so only the first-token timer can fire.
        await using var cell = await Cell.StartAsync(provider, ServerBehavior.Ok, shortTimeouts: true, attemptTimeout: Hang, breaker: false);
        var delays = Enumerable.Range(0, 6).Select(_ => FirstTokenTimeout + TimeSpan.FromMilliseconds(random.Next(-60, 60))).ToArray();
        cell.Bad.Script = n => new ServerBehavior { TimeToFirstToken = delays[(n - 1) % delays.Length], Text = "Hello from a, in the end", Chunks = 4 };
        int failedOver = 0;
        var calls = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => cell.StreamAsync()));
        foreach (var (text, info, error) in calls)
        {
            error.Should().BeNull("once the first update was handed over, the first-token timer can end nothing");
            if (info!.Attempts[0].Outcome == RouteAttemptOutcome.TimedOut)
            {
                failedOver++;
                text.Should().Be("Hello from good");
                info.Attempts[0].Error!.Message.Should().Contain($"TimeToFirstTokenTimeout ({FirstTokenTimeout})");
            }
            else
            {
                text.Should().Be("Hello from a, in the end");
                info.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("a", RouteAttemptOutcome.Succeeded));
            }
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == failedOver && h.Successes == 6 - failedOver && h.InFlight == 0);
    });

    [Fact]
    public Task A_plain_call_fails_over_from_an_error_body_a_cut_body_and_a_silent_server() => OnEveryProvider(async (provider, random) =>
    {
        var half = Wire.Answer(provider, "never whole");
        var behaviors = new (string Name, ServerBehavior Behavior, RouteAttemptOutcome Outcome)[]
        {
            ("error body", new ServerBehavior { RawBody = Wire.ErrorBody(provider) }, RouteAttemptOutcome.Failed),
            ("cut body", new ServerBehavior { RawBody = half[..(half.Length / 2)] }, RouteAttemptOutcome.Failed),
            ("headers then silence", new ServerBehavior { RawBody = string.Empty, StallAfterBody = true }, RouteAttemptOutcome.TimedOut),
            ("half a body then silence", new ServerBehavior { RawBody = half[..(half.Length / 2)], StallAfterBody = true }, RouteAttemptOutcome.TimedOut),
        };
        foreach (var (name, behavior, outcome) in behaviors)
        {
            await using var cell = await Cell.StartAsync(provider, behavior with { RawContentType = "application/json" }, shortTimeouts: behavior.StallAfterBody);
            for (int call = 0; call < 2; call++)
            {
                var response = await cell.AnswerAsync();
                response.Text.Should().Be("Hello from good", name);
                var attempts = response.GetRoutingInfo()!.Attempts;
                attempts.Select(a => (a.Route, a.Outcome)).Should().Equal([("a", outcome), ("b", RouteAttemptOutcome.Succeeded)], name);
                if (outcome == RouteAttemptOutcome.TimedOut)
                {
                    attempts[0].Error!.Message.Should().Contain($"did not answer within AttemptTimeout ({AttemptTimeout})", name);
                }
            }

            cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Failures == 2 && h.Successes == 0 && h.InFlight == 0, name);
            await cell.CircuitBecomesAsync("a", RouteCircuitState.Open);
        }
    });

    [Fact]
    public Task A_caller_cancelling_a_plain_call_to_a_silent_server_stops_it_at_once_as_a_cancellation() => OnEveryProvider(async (provider, random) =>
    {
        await using var cell = await Cell.StartAsync(provider, ServerBehavior.Ok, attemptTimeout: Hang);
        cell.Bad.Script = n => n <= 2 ? new ServerBehavior { RawBody = string.Empty, StallAfterBody = true, RawContentType = "application/json" } : ServerBehavior.Ok;
        for (int call = 0; call < 2; call++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(150, 400)));
            await FluentActions.Awaiting(() => cell.AnswerAsync(cancel.Token)).Should().ThrowAsync<OperationCanceledException>();
        }

        cell.Health("a").Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 2 && h.Failures == 0 && h.InFlight == 0);
        cell.GoodRequests.Should().Be(0);
        await Eventually.TrueAsync(() => cell.Bad.AbortedRequests == 2, $"{provider}: the cancelled requests are closed");
        await cell.RouteStillAnswersAsync();
    });

    /// <summary>Runs a cell on the three providers at once, each with its own random seed (named in failures).</summary>
    private static async Task OnEveryProvider(Func<string, Random, Task> cell)
    {
        int seed = Random.Shared.Next();
        var runs = Providers.Select(async provider =>
        {
            try
            {
                await cell(provider, new Random(seed + provider.Length));
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{provider} (seed {seed}): {e}");
            }
        }).ToList();
        await Task.WhenAll(runs);
    }

    private static string[] Words(Random random, int count)
    {
        string[] words = ["The answer", " is", " forty", " two", " — 四十二", ", surely", " (ça va)"];
        return [.. Enumerable.Range(0, count).Select(i => (i == 0 ? string.Empty : " ") + words[random.Next(words.Length)].TrimStart())];
    }

    /// <summary>A misbehaving route <c>a</c> and a healthy route <c>b</c> of one provider, built from configuration.</summary>
    private sealed class Cell : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private Cell(FakeProviderServer bad, FakeProviderServer good, ServiceProvider services)
        {
            Bad = bad;
            Good = good;
            _services = services;
            Client = services.GetRequiredService<IChatClient>();
            Router = services.GetRequiredService<RouterChatClient>();
        }

        public FakeProviderServer Bad { get; }

        public FakeProviderServer Good { get; }

        /// <summary>Gets the requests the healthy route got since the warm-up.</summary>
        public int GoodRequests => Good.RequestCount - _warmUpRequests;

        private int _warmUpRequests;

        public IChatClient Client { get; }

        public RouterChatClient Router { get; }

        public BudgetManager Budget => _services.GetRequiredService<BudgetManager>();

        /// <summary>Starts both servers and the router; the short timeouts apply only when <paramref name="shortTimeouts"/> (hang cells), else generous ones.</summary>
        /// <param name="layers">Whether the semantic cache and budgets sit above the router (priced routes, a global limit).</param>
        public static async Task<Cell> StartAsync(string provider, ServerBehavior bad, bool shortTimeouts = false, TimeSpan? attemptTimeout = null, bool breaker = true, bool layers = false)
        {
            var badServer = await FakeProviderServer.StartAsync("bad", bad);
            var goodServer = await FakeProviderServer.StartAsync("good");

            // The SDK's first calls in a process (JIT, first connection) must not eat into a short timeout: warm it up with generous ones.
            await using (var warm = Build(provider, [("b", goodServer)], Generous, 2 * Generous, breaker: false, layers: false))
            {
                var client = warm.GetRequiredService<IChatClient>();
                await client.GetResponseAsync("Hi");
                await client.GetStreamingResponseAsync("Hi").ToChatResponseAsync();
            }

            var services = Build(provider, [("a", badServer), ("b", goodServer)], shortTimeouts ? FirstTokenTimeout : Generous, attemptTimeout ?? (shortTimeouts ? AttemptTimeout : 2 * Generous), breaker, layers);
            return new Cell(badServer, goodServer, services) { _warmUpRequests = goodServer.RequestCount };
        }

        private static ServiceProvider Build(string provider, (string Name, FakeProviderServer Server)[] routes, TimeSpan firstToken, TimeSpan attempt, bool breaker, bool layers)
        {
            var settings = new Dictionary<string, string?>
            {
                ["InferenceRouter:TimeToFirstTokenTimeout"] = firstToken.ToString(),
                ["InferenceRouter:AttemptTimeout"] = attempt.ToString(),
                ["InferenceRouter:CircuitBreaker:Enabled"] = breaker.ToString(),
                ["InferenceRouter:CircuitBreaker:MinimumThroughput"] = "2",
                ["InferenceRouter:CircuitBreaker:FailureRatio"] = "0.9",
                ["InferenceRouter:CircuitBreaker:SamplingDuration"] = "00:05:00",
                ["InferenceRouter:CircuitBreaker:BreakDuration"] = "00:05:00",
            };
            for (int i = 0; i < routes.Length; i++)
            {
                var (name, server) = routes[i];
                string prefix = $"InferenceRouter:Routes:{i}:";
                settings[prefix + "Name"] = name;
                settings[prefix + "Provider"] = provider;
                settings[prefix + "Endpoint"] = provider == "OpenAICompatible" ? server.BaseUrl.ToString() : server.RootUrl.ToString();
                settings[prefix + "Model"] = "model-" + name;
                settings[prefix + "ApiKey"] = "test-key";
                settings[prefix + "InputPricePerMillion"] = "1";
                settings[prefix + "OutputPricePerMillion"] = "1000";
            }

            if (layers)
            {
                settings["InferenceRouter:Budgets:Limits:0:Scope"] = "Global";
                settings["InferenceRouter:Budgets:Limits:0:Amount"] = "100";
            }

            var services = new ServiceCollection();
            var pipeline = services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("InferenceRouter"));
            if (layers)
            {
                pipeline.UseSemanticCache().UseBudgets();
            }

            return services.BuildServiceProvider();
        }

        public RouteHealthSnapshot Health(string route) => Router.GetRoute(route).Health.GetSnapshot();

        /// <summary>The breaker judges a stream when it ends, and tells health of a state change on its own executor: wait for it.</summary>
        public Task CircuitBecomesAsync(string route, RouteCircuitState state) =>
            Eventually.TrueAsync(() => Router.GetRoute(route).Health.CircuitState == state, $"route {route}'s circuit is {state}", timeoutSeconds: 10);

        /// <summary>
        /// After calls that must not count against route <c>a</c>, its circuit is closed and it still takes calls: two failures would have
        /// opened it (the breaker trips at 90% of at least 2 judged calls), and then the next call would go to <c>b</c>.
        /// </summary>
        public async Task RouteStillAnswersAsync()
        {
            await Task.Delay(200); // the breaker tells health of a state change on its own executor: give it the time it would take
            Health("a").CircuitState.Should().Be(RouteCircuitState.Closed);
            var (_, info, error) = await StreamAsync();
            error.Should().BeNull();
            info!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("a", RouteAttemptOutcome.Succeeded));
        }


        /// <summary>Gets how many updates the last <see cref="StreamAsync"/> received.</summary>
        public int UpdatesReceived { get; private set; }

        /// <summary>Reads a stream as an app does: what it got, the routing info of its last update, and the error it ended with.</summary>
        /// <param name="readDelay">How long the app spends on each update.</param>
        /// <param name="cancel">When set, cancelled once the first text arrived.</param>
        public async Task<(string Text, RoutingInfo? Info, Exception? Error)> StreamAsync(TimeSpan readDelay = default, CancellationTokenSource? cancel = null)
        {
            var text = new System.Text.StringBuilder();
            RoutingInfo? info = null;
            UpdatesReceived = 0;
            var read = Task.Run(async () =>
            {
                await foreach (var update in Client.GetStreamingResponseAsync("Hi", cancellationToken: cancel?.Token ?? default))
                {
                    UpdatesReceived++;
                    text.Append(update.Text);
                    info = update.GetRoutingInfo() ?? info;
                    if (cancel is not null && text.Length > 0 && !cancel.IsCancellationRequested)
                    {
                        await cancel.CancelAsync();
                    }

                    if (readDelay > TimeSpan.Zero)
                    {
                        await Task.Delay(readDelay);
                    }
                }
            });
            try
            {
                await read.WaitAsync(TimeSpan.FromSeconds(15));
                return (text.ToString(), info, null);
            }
            catch (TimeoutException) when (!read.IsCompleted)
            {
                throw new Xunit.Sdk.XunitException("The stream hung: neither the router's timeouts nor the caller's cancellation ended it.");
            }
            catch (Exception e)
            {
                return (text.ToString(), info, e);
            }
        }

        public async Task<ChatResponse> AnswerAsync(CancellationToken cancellationToken = default)
        {
            var call = Client.GetResponseAsync("Hi", cancellationToken: cancellationToken);
            try
            {
                return await call.WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (TimeoutException) when (!call.IsCompleted)
            {
                throw new Xunit.Sdk.XunitException("The call hung: neither the router's timeouts nor the caller's cancellation ended it.");
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _services.DisposeAsync();
            await Bad.DisposeAsync();
            await Good.DisposeAsync();
        }
    }

    /// <summary>
    /// Each provider's wire format, byte for byte: what opens a stream, a text chunk, its end, an error event, an answer. The errors are
    /// plain server errors (no rate limit, which would cool the route down and keep the second call of a cell away from it).
    /// </summary>
    private static class Wire
    {
        public static string ContentType(string provider) => provider == "Ollama" ? "application/x-ndjson" : "text/event-stream";

        public static string Opening(string provider) => provider != "Anthropic" ? string.Empty
            : Event("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"model-a","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}""")
            + Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""");

        public static string Chunk(string provider, string text)
        {
            string json = System.Text.Json.JsonSerializer.Serialize(text);
            return provider switch
            {
                "OpenAICompatible" => """data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"model-a","choices":[{"index":0,"delta":{"role":"assistant","content":""" + json + """},"finish_reason":null}]}""" + "\n\n",
                "Anthropic" => Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""" + json + """}}"""),
                _ => """{"model":"model-a","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""" + json + """},"done":false}""" + "\n",
            };
        }

        public static string Error(string provider) => provider switch
        {
            "OpenAICompatible" => """data: {"error":{"message":"The server had an error while processing your request","type":"server_error"}}""" + "\n\n",
            "Anthropic" => Event("error", """{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"""),
            _ => """{"error":"model runner has unexpectedly stopped"}""" + "\n",
        };

        /// <summary>The status the router reads from <see cref="Error"/>: OpenAI's <c>server_error</c> and Anthropic's <c>api_error</c> name 500; OllamaSharp keeps no text of Ollama's.</summary>
        public static int? ErrorStatus(string provider) => provider == "Ollama" ? null : 500;

        /// <summary>What says the answer is complete: a <c>finish_reason</c> chunk, <c>content_block_stop</c> + <c>message_delta</c>, a <c>done: true</c> line.</summary>
        public static string Finish(string provider) => provider switch
        {
            "OpenAICompatible" => """data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"model-a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""" + "\n\n",
            "Anthropic" => Event("content_block_stop", """{"type":"content_block_stop","index":0}""")
                + Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}"""),
            _ => """{"model":"model-a","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":3}""" + "\n",
        };

        /// <summary>What closes a stream after its finish: <c>[DONE]</c>, <c>message_stop</c>; nothing for Ollama.</summary>
        public static string Done(string provider) => provider switch
        {
            "OpenAICompatible" => "data: [DONE]\n\n",
            "Anthropic" => Event("message_stop", """{"type":"message_stop"}"""),
            _ => string.Empty,
        };

        public static string RateLimit(string provider) => provider switch
        {
            "OpenAICompatible" => """data: {"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""" + "\n\n",
            "Anthropic" => Event("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""),
            _ => """{"error":"too many requests"}""" + "\n",
        };

        /// <summary>What the router makes of <see cref="RateLimit"/>: OllamaSharp keeps no text of Ollama's error line, so it is only a server fault.</summary>
        public static (int? Status, FailureKind Kind) RateLimitAs(string provider) => provider switch
        {
            "OpenAICompatible" => (429, FailureKind.RateLimited),
            "Anthropic" => (529, FailureKind.RateLimited),
            _ => (null, FailureKind.Transient),
        };

        public static string Answer(string provider, string text)
        {
            string json = System.Text.Json.JsonSerializer.Serialize(text);
            return provider switch
            {
                "OpenAICompatible" => """{"id":"c1","object":"chat.completion","created":1,"model":"model-a","choices":[{"index":0,"message":{"role":"assistant","content":""" + json + """},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}""",
                "Anthropic" => """{"id":"msg_1","type":"message","role":"assistant","model":"model-a","content":[{"type":"text","text":""" + json + """}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":3}}""",
                _ => """{"model":"model-a","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""" + json + """},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":3}""",
            };
        }

        public static string ErrorBody(string provider) => provider switch
        {
            "OpenAICompatible" => """{"error":{"message":"The server had an error while processing your request","type":"server_error"}}""",
            "Anthropic" => """{"type":"error","error":{"type":"api_error","message":"Internal server error"}}""",
            _ => """{"error":"model runner has unexpectedly stopped"}""",
        };

        private static string Event(string name, string json) => $"event: {name}\ndata: {json}\n\n";
    }
}
