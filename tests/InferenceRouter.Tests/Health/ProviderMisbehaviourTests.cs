using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using InferenceRouter.Tests.Integration;
using InferenceRouter.TestServer;
using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Health;

/// <summary>
/// What real OpenAI-compatible servers send that is not an answer — error events inside a 200 stream, JSON error bodies, wrong-shape
/// JSON, absurd Retry-After headers — through the real OpenAI SDK: each is a failure the router sees, fails over from and counts.
/// </summary>
public class ProviderMisbehaviourTests
{
    private const string Completion = "{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\"";

    public static TheoryData<string, string?, bool> NotAnAnswer() => new()
    {
        // name, raw body (status 200), streaming
        { "error event in a 200 stream", "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"503\"}}\n\ndata: [DONE]\n\n", true },
        { "error event, no [DONE]", "data: {\"error\":{\"message\":\"try later\",\"type\":\"server_error\"}}\n\n", true },
        { "a JSON error body instead of an event stream", "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}", true },
        { "a stream with nothing in it", "data: [DONE]\n\n", true },
        { "an error body", "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}", false },
        { "just a string", "\"just a string\"", false },
        { "no choices", Completion + "}", false },
        { "empty choices", Completion + ",\"choices\":[]}", false },
        { "choices is not an array", Completion + ",\"choices\":\"nope\"}", false },
        { "content is a number", Completion + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":123},\"finish_reason\":\"stop\"}]}", false },
    };

    [Theory]
    [MemberData(nameof(NotAnAnswer))]
    public async Task An_answer_that_is_not_an_answer_fails_over_and_counts_against_the_route(string name, string? body, bool streaming)
    {
        await using var servers = await LoopbackServers.StartAsync("broken", "good");
        servers[0].DefaultBehavior = new ServerBehavior { RawBody = body };
        using var router = new RouterChatClient(servers.Routes(), new RouterOptions { CircuitBreaker = { Enabled = false } });

        var response = streaming
            ? await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync()
            : await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("Hello from good", name);
        var info = streaming ? null : response.GetRoutingInfo()!;
        if (info is not null)
        {
            info.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("broken", RouteAttemptOutcome.Failed), ("good", RouteAttemptOutcome.Succeeded));
        }

        var health = router.GetRoute("broken").Health.GetSnapshot();
        health.Failures.Should().Be(1, name);
        health.Successes.Should().Be(0, "an empty answer is not a success");
        health.InFlight.Should().Be(0);
    }

    [Fact]
    public async Task Streams_that_die_after_their_first_update_open_the_circuit()
    {
        await using var servers = await LoopbackServers.StartAsync("dying", "healthy");
        servers[0].DefaultBehavior = new ServerBehavior { Fault = ServerFault.DropMidStream, DropAfterChunks = 1 };
        // 0.9: a stream that dies part-way must count as one failure, not as a success (when it opened) and a failure.
        var options = new RouterOptions { CircuitBreaker = { MinimumThroughput = 10, FailureRatio = 0.9, SamplingDuration = TimeSpan.FromMinutes(1) } };
        using var router = new RouterChatClient(servers.Routes(), options);

        int died = 0;
        for (int i = 0; i < 30 && router.GetRoute("dying").Health.CircuitState == RouteCircuitState.Closed; i++)
        {
            try
            {
                await router.GetStreamingResponseAsync(Prompt()).ToListAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                died++; // after the first update: no failover, the error reaches the caller
            }
        }

        died.Should().BeGreaterThan(0);
        router.GetRoute("dying").Health.CircuitState.Should().Be(RouteCircuitState.Open, "every stream died: the breaker must see it");
        (await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync()).Text.Should().Be("Hello from healthy");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cancellations_are_neither_successes_nor_failures_for_the_circuit_breaker(bool streaming)
    {
        bool failing = false;
        var flaky = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, ct) =>
            {
                await Task.Delay(failing ? 0 : Timeout.Infinite, ct);
                throw new HttpRequestException("upstream unavailable", null, HttpStatusCode.ServiceUnavailable);
            },
            GetStreamingResponseAsyncCallback = (_, _, ct) => failing ? Fail() : Endless(ct),
        };
        var options = new RouterOptions { CircuitBreaker = { MinimumThroughput = 2, FailureRatio = 0.9, SamplingDuration = TimeSpan.FromMinutes(5) } };
        using var router = new RouterChatClient([Of("flaky", flaky), Of("ok", TestChatClient.Answering("fine"))], options);

        for (int i = 0; i < 10; i++)
        {
            using var cts = new CancellationTokenSource();
            Task call = streaming
                ? router.GetStreamingResponseAsync(Prompt(), cancellationToken: cts.Token).Select(u => { cts.Cancel(); return u; }).ToListAsync().AsTask()
                : router.GetResponseAsync(Prompt(), cancellationToken: cts.Token);
            cts.CancelAfter(TimeSpan.FromMilliseconds(20));
            await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();
        }

        router.GetRoute("flaky").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 10 && h.InFlight == 0 && h.CircuitState == RouteCircuitState.Closed);
        failing = true;
        for (int i = 0; i < 2; i++)
        {
            var answer = streaming ? await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync() : await router.GetResponseAsync(Prompt());
            answer.Text.Should().Be("fine");
        }

        router.GetRoute("flaky").Health.CircuitState.Should().Be(RouteCircuitState.Open, "2 failures of 2 judged attempts; the 10 cancellations are not successes");

        static async IAsyncEnumerable<ChatResponseUpdate> Endless([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            while (true)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, "x");
                await Task.Delay(10, cancellationToken);
            }
        }

        static async IAsyncEnumerable<ChatResponseUpdate> Fail()
        {
            await Task.Yield();
            throw new HttpRequestException("upstream unavailable", null, HttpStatusCode.ServiceUnavailable);
#pragma warning disable CS0162 // an iterator needs a yield
            yield break;
#pragma warning restore CS0162
        }
    }

    [Fact]
    public async Task An_error_event_is_read_as_the_error_it_carries()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = new ServerBehavior { RawBody = "data: {\"error\":{\"message\":\"Bad request: unknown parameter\",\"type\":\"invalid_request_error\"}}\n\n" };
        using var router = new RouterChatClient(servers.Routes());

        var error = (await FluentActions.Awaiting(() => router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync())
            .Should().ThrowAsync<InvalidResponseException>()).Which;

        error.StatusCode.Should().Be(400, "the event's type names the request as wrong: no failover");
        error.Message.Should().Contain("error event").And.Contain("Bad request: unknown parameter");
        servers[1].RequestCount.Should().Be(0);

        var overloaded = new InvalidResponseException("r", "x", new string('e', 10_000), 503);
        overloaded.Message.Length.Should().BeLessThan(400, "provider error text is capped: servers can echo request content there");
    }

    [Theory]
    [InlineData("retry-after-ms", "Infinity")]
    [InlineData("retry-after-ms", "1e20")]
    [InlineData("Retry-After", "99999999999999999999")]
    [InlineData("Retry-After", "NaN")]
    public async Task An_absurd_retry_after_is_clamped_and_the_call_fails_over(string header, string value)
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = new ServerBehavior { StatusCode = 429, Headers = new Dictionary<string, string> { [header] = value } };
        using var router = new RouterChatClient(servers.Routes(), new RouterOptions { MaxRetryAfter = TimeSpan.FromMinutes(2) });

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("Hello from b");
        var health = router.GetRoute("a").Health.GetSnapshot();
        health.InFlight.Should().Be(0);
        if (health.UnavailableUntil is { } until)
        {
            until.Should().BeBefore(DateTimeOffset.UtcNow.AddMinutes(3), "MaxRetryAfter caps the wait");
        }
    }

    [Fact]
    public async Task An_http_date_retry_after_is_measured_against_the_routers_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2031, 3, 4, 5, 6, 0, TimeSpan.Zero));
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        string date = (time.GetUtcNow() + TimeSpan.FromSeconds(30)).ToString("R", CultureInfo.InvariantCulture);
        servers[0].DefaultBehavior = new ServerBehavior { StatusCode = 503, Headers = new Dictionary<string, string> { ["Retry-After"] = date } };
        using var router = new RouterChatClient(servers.Routes(), timeProvider: time);

        await router.GetResponseAsync(Prompt());

        router.GetRoute("a").Health.GetSnapshot().UnavailableUntil.Should().Be(time.GetUtcNow() + TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_classifier_that_throws_never_escapes_the_attempts_bookkeeping()
    {
        var failing = TestChatClient.Failing(new HttpRequestException("boom", null, System.Net.HttpStatusCode.ServiceUnavailable));
        var slow = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, token) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(30), token);
                return new ChatResponse(new ChatMessage(ChatRole.Assistant, "late"));
            },
        };
        var priced = (string name, IChatClient c) => Of(name, c, d => new RouteDescriptor(name) { ModelId = name, Pricing = new RoutePricing(1m, 1m), Capabilities = RouteCapabilities.All });
        var options = new RouterOptions { FailureClassifier = new ThrowingClassifier(), HedgingDelay = TimeSpan.FromMilliseconds(1) };
        var budgetOptions = new BudgetOptions();
        budgetOptions.Limits.Add(new BudgetLimit { Amount = 1m });
        using var budget = new BudgetManager(budgetOptions);
        using var router = new RouterChatClient([priced("slow", slow), priced("failing", failing)], options);
        using var client = new BudgetChatClient(router, budget);

        await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 10 })).Should().ThrowAsync<HttpRequestException>();

        await Eventually.TrueAsync(() => router.GetHealth().All(h => h.InFlight == 0), "the hedged sibling is cancelled and every attempt's bookkeeping finishes");
        ((InMemoryBudgetLedger)budget.Ledger).OutstandingReservations.Should().Be(0, "no reservation is left held");
    }

    [Fact]
    public async Task A_request_no_provider_can_answer_is_refused_up_front_and_never_counts_against_a_route()
    {
        await using var servers = await LoopbackServers.StartAsync("a");
        using var router = new RouterChatClient(servers.Routes());

        await FluentActions.Awaiting(() => router.GetResponseAsync([])).Should().ThrowAsync<ArgumentException>().WithMessage("*no messages*");
        FluentActions.Invoking(() => router.GetStreamingResponseAsync([])).Should().Throw<ArgumentException>().WithMessage("*no messages*");
        await FluentActions.Awaiting(() => router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = -5 }))
            .Should().ThrowAsync<ArgumentOutOfRangeException>().WithMessage("*ChatOptions.MaxOutputTokens is -5*");

        servers[0].RequestCount.Should().Be(0);
        router.GetRoute("a").Health.GetSnapshot().Attempts.Should().Be(0);
    }

    [Theory]
    [InlineData(nameof(RouterOptions.AttemptTimeout))]
    [InlineData(nameof(RouterOptions.TimeToFirstTokenTimeout))]
    [InlineData(nameof(RouterOptions.HedgingDelay))]
    public void Timeouts_beyond_a_day_are_refused_at_startup_naming_the_option(string option)
    {
        var options = new RouterOptions();
        typeof(RouterOptions).GetProperty(option)!.SetValue(options, TimeSpan.FromDays(50));

        FluentActions.Invoking(() => new RouterChatClient([Of("a", TestChatClient.Answering("x"))], options))
            .Should().Throw<ArgumentException>().WithMessage($"*{option} is 50.00:00:00*up to 1.00:00:00*");
    }

    private sealed class ThrowingClassifier : FailureClassifier
    {
        public override FailureClassification Classify(Exception exception) => throw new InvalidOperationException("classifier bug");
    }
}
