using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static InferenceRouter.Tests.Routing.FailureClassificationMatrixTests;

namespace InferenceRouter.Tests.Routing;

/// <summary>
/// Refusals that are the request's, not a route's: a prompt too long for a route's window goes to a route with a larger declared window
/// (LiteLLM's context-window fallbacks), a content filter surfaces unless fallback is configured, and neither counts against the route.
/// </summary>
public class RequestRefusalFailoverTests
{
    private const string OpenAITooLong = """{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""";
    private const string AnthropicTooLong = """{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 205000 tokens > 200000 maximum"}}""";
    private const string OllamaTooLong = """{"error":"the input length exceeds the context length"}""";
    private const string ContentFilter = """{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}}""";

    public static TheoryData<string, string, bool> TooLong() => new()
    {
        { "OpenAI", OpenAITooLong, false }, { "OpenAI", OpenAITooLong, true },
        { "Anthropic", AnthropicTooLong, false }, { "Anthropic", AnthropicTooLong, true },
        { "Ollama", OllamaTooLong, false }, { "Ollama", OllamaTooLong, true },
    };

    [Theory]
    [MemberData(nameof(TooLong))]
    public async Task A_prompt_too_long_goes_only_to_routes_that_declare_a_larger_window(string provider, string body, bool streaming)
    {
        await using var small = await FakeProviderServer.StartAsync("small", TooLongFrom(body));
        await using var smaller = await FakeProviderServer.StartAsync("smaller");
        await using var unknown = await FakeProviderServer.StartAsync("unknown");
        await using var large = await FakeProviderServer.StartAsync("large");
        await using var app = Build(null, [("small", provider, small, 8_000), ("smaller", "OpenAICompatible", smaller, 4_000), ("unknown", "Anthropic", unknown, null), ("large", "Ollama", large, 128_000)]);
        var client = app.GetRequiredService<IChatClient>();

        var response = await Call(client, streaming);

        response.Text.Should().Be("Hello from large");
        response.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome, a.Failure)).Should().Equal(
            ("small", RouteAttemptOutcome.Failed, FailureKind.ContextLengthExceeded), ("large", RouteAttemptOutcome.Succeeded, (FailureKind?)null));
        smaller.RequestCount.Should().Be(0, "a window not larger cannot hold the prompt");
        unknown.RequestCount.Should().Be(0, "an undeclared window is not known to be larger");
    }

    [Theory]
    [MemberData(nameof(TooLong))]
    public async Task With_no_larger_window_the_refusal_surfaces_as_the_provider_sent_it_and_never_harms_the_route(string provider, string body, bool streaming)
    {
        await using var small = await FakeProviderServer.StartAsync("small", TooLongFrom(body));
        await using var same = await FakeProviderServer.StartAsync("same");
        await using var app = Build(null, [("small", provider, small, 8_000), ("same", "OpenAICompatible", same, 8_000)],
            new() { ["InferenceRouter:CircuitBreaker:MinimumThroughput"] = "2", ["InferenceRouter:CircuitBreaker:FailureRatio"] = "0.5" });
        var client = app.GetRequiredService<IChatClient>();

        for (int i = 0; i < 6; i++)
        {
            var error = (await FluentActions.Awaiting(() => Call(client, streaming)).Should().ThrowAsync<Exception>()).Which;
            error.Should().NotBeOfType<AllRoutesFailedException>();
            error.ToString().Should().ContainAny("context", "too long");
        }

        same.RequestCount.Should().Be(0);
        var health = app.GetRequiredService<RouterChatClient>().GetRoute("small").Health.GetSnapshot();
        health.Should().Match<RouteHealthSnapshot>(h => h.Failures == 0 && h.RequestErrors == 6 && h.ErrorRate == 0 && h.CircuitState == RouteCircuitState.Closed && h.InFlight == 0,
            "six refusals of the prompt, not of the route: the circuit (2 calls, ratio 0.5) stays closed");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_route_declaring_no_window_hands_a_prompt_too_long_to_any_route_that_declares_one(bool streaming)
    {
        await using var undeclared = await FakeProviderServer.StartAsync("undeclared", TooLongFrom(AnthropicTooLong));
        await using var declared = await FakeProviderServer.StartAsync("declared");
        await using var app = Build(null, [("undeclared", "Anthropic", undeclared, null), ("declared", "OpenAICompatible", declared, 32_000)]);

        (await Call(app.GetRequiredService<IChatClient>(), streaming)).Text.Should().Be("Hello from declared");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_content_filter_refusal_surfaces_by_default_and_fails_over_loudly_when_configured(bool streaming)
    {
        await using var strict = await FakeProviderServer.StartAsync("strict", new ServerBehavior { StatusCode = 400, RawBody = ContentFilter, RawContentType = "application/json" });
        await using var other = await FakeProviderServer.StartAsync("other");
        await using (var app = Build(null, [("strict", "OpenAI", strict, null), ("other", "Anthropic", other, null)]))
        {
            var error = (await FluentActions.Awaiting(() => Call(app.GetRequiredService<IChatClient>(), streaming)).Should().ThrowAsync<System.ClientModel.ClientResultException>()).Which;
            error.Status.Should().Be(400);
            other.RequestCount.Should().Be(0, "never silently: without ContentPolicyFallback the refusal reaches the caller");
        }

        var logs = new FakeLogCollector();
        await using (var app = Build(logs, [("strict", "OpenAI", strict, null), ("other", "Anthropic", other, null)], new() { ["InferenceRouter:ContentPolicyFallback"] = "FailOver" }))
        {
            var response = await Call(app.GetRequiredService<IChatClient>(), streaming);

            response.Text.Should().Be("Hello from other");
            var info = response.GetRoutingInfo()!;
            info.IsFallback.Should().BeTrue();
            info.Attempts[0].Should().Match<RouteAttempt>(a => a.Route == "strict" && a.Failure == FailureKind.ContentFiltered && a.StatusCode == 400);
            logs.GetSnapshot().Should().ContainSingle(r => r.Level == LogLevel.Warning && r.Message.Contains("content filter refused", StringComparison.Ordinal) && r.Message.Contains("strict", StringComparison.Ordinal));
            app.GetRequiredService<RouterChatClient>().GetRoute("strict").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Failures == 0 && h.RequestErrors == 1);
        }
    }

    [Theory]
    [InlineData("OpenAI", false)]
    [InlineData("OpenAI", true)]
    [InlineData("Anthropic", false)]
    [InlineData("Anthropic", true)]
    public async Task An_answer_the_content_filter_refused_is_an_answer_by_default_and_a_refusal_to_fail_over_from_when_configured(string provider, bool streaming)
    {
        await using var strict = await FakeProviderServer.StartAsync("strict", new ServerBehavior { RawBody = RefusedAnswer(provider, streaming) });
        await using var other = await FakeProviderServer.StartAsync("other");
        await using (var app = Build(null, [("strict", provider, strict, null), ("other", "Ollama", other, null)]))
        {
            var answer = await Call(app.GetRequiredService<IChatClient>(), streaming);
            answer.FinishReason.Should().Be(ChatFinishReason.ContentFilter, "by default the refusal reaches the caller as the provider sent it");
            other.RequestCount.Should().Be(0);
        }

        await using (var app = Build(null, [("strict", provider, strict, null), ("other", "Ollama", other, null)], new() { ["InferenceRouter:ContentPolicyFallback"] = "FailOver" }))
        {
            var answer = await Call(app.GetRequiredService<IChatClient>(), streaming);

            answer.Text.Should().Be("Hello from other");
            answer.GetRoutingInfo()!.Attempts[0].Failure.Should().Be(FailureKind.ContentFiltered);
            var health = app.GetRequiredService<RouterChatClient>().GetRoute("strict").Health;
            await Eventually.TrueAsync(() => health.InFlight == 0, "the refused stream is closed");
            health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.RequestErrors == 1 && h.Failures == 0 && h.Successes == 0);
        }
    }

    /// <summary>A 200 answer that is a refusal: OpenAI's (and Azure's) <c>finish_reason: content_filter</c>, Anthropic's <c>stop_reason: refusal</c>.</summary>
    private static string RefusedAnswer(string provider, bool streaming) => (provider, streaming) switch
    {
        ("OpenAI", false) => """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}],"usage":{"prompt_tokens":5,"completion_tokens":0,"total_tokens":5}}""",
        ("OpenAI", true) => "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n" +
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"content_filter\"}]}\n\ndata: [DONE]\n\n",
        (_, false) => """{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[],"stop_reason":"refusal","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":0}}""",
        _ => "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n" +
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"refusal\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":0}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    };

    [Fact]
    public void The_new_failure_options_are_validated_at_start_naming_the_key_and_the_fix()
    {
        var options = new RouterOptions { RateLimitCooldown = TimeSpan.FromSeconds(-1), MisconfiguredRouteProbeInterval = TimeSpan.FromSeconds(-5), ContentPolicyFallback = (ContentPolicyFallback)7 };

        FluentActions.Invoking(() => new RouterChatClient([Routes.Of("a", TestChatClient.Answering("x"))], options))
            .Should().Throw<ArgumentException>()
            .WithMessage("*RateLimitCooldown is -00:00:01*").WithMessage("*MisconfiguredRouteProbeInterval is -00:00:05*RestoreRoute*").WithMessage("*ContentPolicyFallback is 7*Surface*FailOver*");
    }

    private static ServerBehavior TooLongFrom(string body) => new() { StatusCode = 400, RawBody = body, RawContentType = "application/json" };
}
