using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace InferenceRouter.Tests.Routing;

/// <summary>
/// Errors classified the same way on every provider: each status, error event and wording × OpenAI, Anthropic and Ollama routes built
/// from configuration (the real SDKs, as appsettings builds them) × streaming and not, against a loopback server sending exact bytes,
/// with a second healthy route present. Each cell asserts what the caller sees, <see cref="RoutingInfo"/>, the route's health and its
/// circuit.
/// </summary>
public class FailureClassificationMatrixTests
{
    private const string Json = "application/json";

    private static readonly Dictionary<string, string> RetryAfter7 = new() { ["Retry-After"] = "7" };

    /// <summary>One cell: what route "a" answers, and what the router must make of it.</summary>
    public sealed record Cell(string Provider, int Status, string Body, FailureKind Kind, bool FailsOver, int? Reported = null, string? ContentType = Json, IReadOnlyDictionary<string, string>? Headers = null, bool StreamOnly = false)
    {
        public int? ExpectedStatus => Reported ?? (Status == 200 ? null : Status);
    }

    private static readonly Dictionary<string, Cell> Cells = new()
    {
        // OpenAI (and OpenAI-compatible servers: vLLM, Azure), as their APIs answer.
        ["openai 401 invalid_api_key"] = new("OpenAI", 401, """{"error":{"message":"Incorrect API key provided: sk-abc.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", FailureKind.RouteMisconfigured, true),
        ["openai 403 unsupported region"] = new("OpenAI", 403, """{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}""", FailureKind.RouteMisconfigured, true),
        ["openai 404 model_not_found"] = new("OpenAI", 404, """{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}""", FailureKind.RouteMisconfigured, true),
        ["openai 429 insufficient_quota"] = new("OpenAI", 429, """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""", FailureKind.RouteMisconfigured, true),
        ["openai 400 context_length_exceeded"] = new("OpenAI", 400, """{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""", FailureKind.ContextLengthExceeded, true),
        ["vllm 400 maximum context length"] = new("OpenAI", 400, """{"error":{"message":"'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778). None","type":"BadRequestError","param":null,"code":400}}""", FailureKind.ContextLengthExceeded, true),
        ["azure 400 content_filter"] = new("OpenAI", 400, """{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.","type":null,"param":"prompt","code":"content_filter","status":400}}""", FailureKind.ContentFiltered, false),
        ["openai 400 invalid_request_error"] = new("OpenAI", 400, """{"error":{"message":"Invalid value for 'temperature': must be at most 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}""", FailureKind.InvalidRequest, false),
        ["openai 400 unsupported_parameter"] = new("OpenAI", 400, """{"error":{"message":"Unsupported parameter: 'temperature' is not supported with this model.","type":"invalid_request_error","param":"temperature","code":"unsupported_parameter"}}""", FailureKind.UnsupportedRequest, true),
        ["openai 429 no retry-after"] = new("OpenAI", 429, """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", FailureKind.RateLimited, true),
        ["openai 503"] = new("OpenAI", 503, """{"error":{"message":"The server is overloaded or not ready yet.","type":"server_error","param":null,"code":null}}""", FailureKind.RateLimited, true),
        ["openai event rate_limit_exceeded"] = new("OpenAI", 200, """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", FailureKind.RateLimited, true, Reported: 429, ContentType: null, StreamOnly: true),
        ["openai event invalid_request_error"] = new("OpenAI", 200, """{"error":{"message":"Bad request: unknown parameter","type":"invalid_request_error","param":null,"code":null}}""", FailureKind.InvalidRequest, false, Reported: 400, ContentType: null, StreamOnly: true),
        ["openai event server_error"] = new("OpenAI", 200, """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""", FailureKind.Transient, true, Reported: 500, ContentType: null, StreamOnly: true),

        // OpenAI-compatible servers' other error shapes, read by the same rules: the fields at the top level (vLLM), "detail" (FastAPI),
        // "error" as a string with its type beside it (TGI), in a body and as an event inside a 200 stream.
        ["vllm 400 top-level maximum context length"] = new("OpenAICompatible", 400, """{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","code":400}""", FailureKind.ContextLengthExceeded, true),
        ["vllm 400 top-level does not support"] = new("OpenAICompatible", 400, """{"object":"error","message":"The model `model-a` does not support image input.","type":"BadRequestError","param":null,"code":400}""", FailureKind.UnsupportedRequest, true),
        ["compatible 429 top-level insufficient_quota"] = new("OpenAICompatible", 429, """{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}""", FailureKind.RouteMisconfigured, true),
        ["fastapi 400 detail maximum context length"] = new("OpenAICompatible", 400, """{"detail":"This model's maximum context length is 2048 tokens. However, you requested 3000 tokens."}""", FailureKind.ContextLengthExceeded, true),
        ["fastapi 422 detail validation list"] = new("OpenAICompatible", 422, """{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}""", FailureKind.InvalidRequest, false),
        ["tgi 422 error string max_new_tokens"] = new("OpenAICompatible", 422, """{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 5000 `inputs` tokens and 20 `max_new_tokens`","error_type":"validation"}""", FailureKind.ContextLengthExceeded, true),
        ["vllm event top-level maximum context length"] = new("OpenAICompatible", 200, """{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","code":400}""", FailureKind.ContextLengthExceeded, true, Reported: 400, ContentType: null, StreamOnly: true),
        ["vllm event top-level rate limit"] = new("OpenAICompatible", 200, """{"object":"error","message":"Rate limit reached for requests","type":"rate_limit_exceeded","code":429}""", FailureKind.RateLimited, true, Reported: 429, ContentType: null, StreamOnly: true),
        ["fastapi event detail server error"] = new("OpenAICompatible", 200, """{"detail":{"message":"The server had an error while processing your request.","type":"server_error"}}""", FailureKind.Transient, true, Reported: 500, ContentType: null, StreamOnly: true),

        // Anthropic, as the Messages API answers: errors as {"type":"error","error":{type, message}}, in a body or a stream's error event.
        ["anthropic 401 authentication_error"] = new("Anthropic", 401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""", FailureKind.RouteMisconfigured, true),
        ["anthropic 403 permission_error"] = new("Anthropic", 403, """{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}""", FailureKind.RouteMisconfigured, true),
        ["anthropic 404 not_found_error"] = new("Anthropic", 404, """{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}""", FailureKind.RouteMisconfigured, true),
        ["anthropic 400 credit balance"] = new("Anthropic", 400, """{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}""", FailureKind.RouteMisconfigured, true),
        ["anthropic 400 prompt is too long"] = new("Anthropic", 400, """{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 205000 tokens > 200000 maximum"}}""", FailureKind.ContextLengthExceeded, true),
        ["anthropic 400 exceed context limit"] = new("Anthropic", 400, """{"type":"error","error":{"type":"invalid_request_error","message":"input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000, decrease input length or `max_tokens` and try again"}}""", FailureKind.ContextLengthExceeded, true),
        ["anthropic 400 invalid_request_error"] = new("Anthropic", 400, """{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate between \"user\" and \"assistant\""}}""", FailureKind.InvalidRequest, false),
        ["anthropic 429 retry-after"] = new("Anthropic", 429, """{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}""", FailureKind.RateLimited, true, Headers: RetryAfter7),
        ["anthropic 529 overloaded_error"] = new("Anthropic", 529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", FailureKind.RateLimited, true),
        ["anthropic event invalid_request_error"] = new("Anthropic", 200, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"messages: text content blocks must be non-empty\"}}\n\n", FailureKind.InvalidRequest, false, Reported: 400, ContentType: null, StreamOnly: true),
        ["anthropic event rate_limit_error"] = new("Anthropic", 200, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}\n\n", FailureKind.RateLimited, true, Reported: 429, ContentType: null, StreamOnly: true),
        ["anthropic event overloaded_error"] = new("Anthropic", 200, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", FailureKind.RateLimited, true, Reported: 529, ContentType: null, StreamOnly: true),
        ["anthropic event prompt is too long"] = new("Anthropic", 200, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"prompt is too long: 205000 tokens > 200000 maximum\"}}\n\n", FailureKind.ContextLengthExceeded, true, Reported: 400, ContentType: null, StreamOnly: true),

        // Ollama, as its server answers (recorded wordings of 0.12 and 0.34+); OllamaSharp reads a 400's message, other statuses as such.
        ["ollama 401"] = new("Ollama", 401, """{"error":"unauthorized"}""", FailureKind.RouteMisconfigured, true),
        ["ollama 403"] = new("Ollama", 403, """{"error":"forbidden"}""", FailureKind.RouteMisconfigured, true),
        ["ollama 404 model not found"] = new("Ollama", 404, """{"error":"model 'llama9' not found, try pulling it first"}""", FailureKind.RouteMisconfigured, true),
        ["ollama 400 input length exceeds the context length"] = new("Ollama", 400, """{"error":"the input length exceeds the context length"}""", FailureKind.ContextLengthExceeded, true),
        ["ollama 400 exceeds the available context size"] = new("Ollama", 400, """{"error":"{\"error\":{\"code\":400,\"message\":\"request (2622 tokens) exceeds the available context size (512 tokens), try increasing it\",\"type\":\"exceed_context_size_error\",\"n_prompt_tokens\":2622,\"n_ctx\":512}}"}""", FailureKind.ContextLengthExceeded, true),
        ["ollama 400 does not support tools"] = new("Ollama", 400, """{"error":"registry.ollama.ai/library/gemma:2b does not support tools"}""", FailureKind.UnsupportedRequest, true),
        ["ollama 400 invalid request"] = new("Ollama", 400, """{"error":"illegal base64 data at input byte 0"}""", FailureKind.InvalidRequest, false),
        ["ollama 429 retry-after"] = new("Ollama", 429, """{"error":"too many requests"}""", FailureKind.RateLimited, true, Headers: RetryAfter7),
        ["ollama 500"] = new("Ollama", 500, """{"error":"llama runner process has terminated: signal: killed"}""", FailureKind.Transient, true),
    };

    public static TheoryData<string, bool> CellNames()
    {
        var data = new TheoryData<string, bool>();
        foreach (var (name, cell) in Cells)
        {
            data.Add(name, true);
            if (!cell.StreamOnly)
            {
                data.Add(name, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CellNames))]
    public async Task Each_provider_error_is_classified_by_the_same_rules(string cellName, bool streaming)
    {
        var cell = Cells[cellName];
        await using var a = await FakeProviderServer.StartAsync("a", Behavior(cell, streaming));
        await using var b = await FakeProviderServer.StartAsync("b");
        var collector = new FakeLogCollector();
        await using var app = Build(collector, [("a", cell.Provider, a, 8_000), ("b", OtherProvider(cell.Provider), b, 200_000)]);
        var client = app.GetRequiredService<IChatClient>();
        var router = app.GetRequiredService<RouterChatClient>();
        var routeA = router.GetRoute("a").Health;

        if (cell.FailsOver)
        {
            var response = await Call(client, streaming);

            response.Text.Should().Be("Hello from b", "the route's failure is not the request's: the healthy route answers");
            var info = response.GetRoutingInfo()!;
            info.Attempts.Select(x => (x.Route, x.Outcome)).Should().Equal(("a", RouteAttemptOutcome.Failed), ("b", RouteAttemptOutcome.Succeeded));
            info.Attempts[0].Failure.Should().Be(cell.Kind);
            info.Attempts[0].StatusCode.Should().Be(cell.ExpectedStatus);
        }
        else
        {
            var error = (await FluentActions.Awaiting(() => Call(client, streaming)).Should().ThrowAsync<Exception>()).Which;

            error.Should().NotBeOfType<AllRoutesFailedException>("the request's own fault surfaces as the provider said it");
            b.RequestCount.Should().Be(0, "no failover for the request's own fault");
        }

        var health = routeA.GetSnapshot();
        health.InFlight.Should().Be(0);
        if (cell.Kind is FailureKind.Transient or FailureKind.RateLimited or FailureKind.RouteMisconfigured)
        {
            health.Failures.Should().Be(1, "the route's fault counts against it");
            health.RequestErrors.Should().Be(0);
        }
        else
        {
            health.Failures.Should().Be(0, "the request's refusal is not the route's fault");
            health.RequestErrors.Should().Be(1);
            health.ErrorRate.Should().Be(0);
            health.CircuitState.Should().Be(RouteCircuitState.Closed);
        }

        switch (cell.Kind)
        {
            case FailureKind.RouteMisconfigured:
                health.CircuitState.Should().Be(RouteCircuitState.Misconfigured);
                health.MisconfiguredStatusCode.Should().Be(cell.ExpectedStatus);
                var again = await Call(client, streaming);
                again.Text.Should().Be("Hello from b");
                again.GetRoutingInfo()!.Skipped.Should().ContainSingle(s => s.Route == "a" && s.Reason == "misconfigured");
                a.RequestCount.Should().Be(1, "a route taken out takes no calls");
                collector.GetSnapshot().Where(r => r.Level == LogLevel.Error && r.Message.StartsWith("Route a answered HTTP", StringComparison.Ordinal))
                    .Should().ContainSingle("one loud error per take-out, not one per call").Which.Message.Should().Contain(cell.ExpectedStatus!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case FailureKind.RateLimited:
                var until = health.UnavailableUntil ?? throw new InvalidOperationException("a rate-limited route cools down");
                if (cell.Headers is null)
                {
                    until.Should().BeAfter(DateTimeOffset.UtcNow.AddSeconds(25), "no Retry-After: the configured RateLimitCooldown (30 s)");
                }
                else
                {
                    until.Should().BeBefore(DateTimeOffset.UtcNow.AddSeconds(8), "the provider's Retry-After (7 s) is read, on every provider").And.BeAfter(DateTimeOffset.UtcNow.AddSeconds(3));
                }

                (await Call(client, streaming)).Text.Should().Be("Hello from b");
                a.RequestCount.Should().Be(1, "the route is skipped while it cools down");
                break;
            case FailureKind.Transient:
                health.UnavailableUntil.Should().BeNull("a plain server fault asks for no wait");
                break;
        }
    }

    private static ServerBehavior Behavior(Cell cell, bool streaming)
    {
        string body = cell.Body;
        if (cell.Status == 200 && cell.Provider is "OpenAI" or "OpenAICompatible")
        {
            body = "data: " + body + "\n\n"; // an error event inside a 200 event stream (a 200 JSON error body is one the SDK cannot read: transient)
        }

        return new ServerBehavior
        {
            StatusCode = cell.Status,
            RawBody = body,
            RawContentType = cell.ContentType ?? (streaming ? (cell.Provider == "Ollama" ? "application/x-ndjson" : "text/event-stream") : Json),
            Headers = cell.Headers,
        };
    }

    private static string OtherProvider(string provider) => provider == "OpenAI" ? "Anthropic" : "OpenAICompatible";

    internal static Task<ChatResponse> Call(IChatClient client, bool streaming, ChatOptions? options = null) =>
        streaming ? client.GetStreamingResponseAsync("Hi", options).ToChatResponseAsync() : client.GetResponseAsync("Hi", options);

    /// <summary>Builds the app as appsettings would: routes under InferenceRouter:Routes, each by its provider's package.</summary>
    internal static ServiceProvider Build(FakeLogCollector? logs, (string Name, string Provider, FakeProviderServer Server, int? Window)[] routes, Dictionary<string, string?>? extra = null, TimeProvider? time = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["InferenceRouter:CircuitBreaker:MinimumThroughput"] = "10",
            ["InferenceRouter:RateLimitCooldown"] = "00:00:30",
        };
        for (int i = 0; i < routes.Length; i++)
        {
            var (name, provider, server, window) = routes[i];
            string prefix = $"InferenceRouter:Routes:{i}:";
            settings[prefix + "Name"] = name;
            settings[prefix + "Provider"] = provider;
            settings[prefix + "Endpoint"] = provider is "OpenAI" or "OpenAICompatible" ? server.BaseUrl.ToString() : server.RootUrl.ToString();
            settings[prefix + "Model"] = "model-" + name;
            settings[prefix + "ApiKey"] = "test-key";
            settings[prefix + "InputPricePerMillion"] = "3";
            settings[prefix + "OutputPricePerMillion"] = "15";
            settings[prefix + "Capabilities"] = "All";
            if (window is { } w)
            {
                settings[prefix + "ContextWindow"] = w.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        if (logs is not null)
        {
            services.AddLogging(l => l.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
        }

        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"));
        return services.BuildServiceProvider();
    }
}
