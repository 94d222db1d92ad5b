using System.Collections.Concurrent;
using System.Diagnostics;
using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace InferenceRouter.Tests.Telemetry;

/// <summary>
/// Nothing private in logs: calls whose prompt and keys are unique markers, against servers whose errors echo them (an Ollama-style 400
/// quoting the request, servers echoing the Authorization or x-api-key header, an error event quoting the request, an error repeating the
/// prompt bare), with every log level captured (Trace up) and every Activity of every source; none may carry a marker, nor may any
/// exception message the router builds.
/// </summary>
public class PrivateTextTests
{
    [Fact]
    public async Task No_log_line_trace_or_router_exception_carries_the_prompt_or_a_key_whatever_the_server_echoes()
    {
        var run = Guid.NewGuid().ToString("N");
        string anthropicKey = "anthropic-" + run[..20];        // redacted by value: no shape gives it away
        string openAIKey = "sk-proj-" + run;                    // redacted by shape and by value
        string plainKey = "k" + run[4..28];                     // by value only
        await using var ollama = await FakeProviderServer.StartAsync("ollama", new ServerBehavior { StatusCode = 400, EchoRequest = true });
        await using var anthropic = await FakeProviderServer.StartAsync("anthropic", new ServerBehavior { StatusCode = 401, EchoRequest = true });
        await using var openAI = await FakeProviderServer.StartAsync("openai", new ServerBehavior { StatusCode = 401, EchoRequest = true });
        await using var events = await FakeProviderServer.StartAsync("events");
        await using var bare = await FakeProviderServer.StartAsync("bare");

        var collector = new FakeLogCollector();
        var leaks = new ConcurrentQueue<string>();
        var markers = new List<string> { anthropicKey, openAIKey, plainKey };
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                var texts = new List<string?> { activity.DisplayName, activity.OperationName, activity.StatusDescription };
                texts.AddRange(activity.TagObjects.Select(t => t.Value?.ToString()));
                texts.AddRange(activity.Events.SelectMany(e => e.Tags.Select(t => t.Value?.ToString()).Prepend(e.Name)));
                texts.AddRange(activity.Baggage.Select(b => b.Value));
                foreach (var text in texts)
                {
                    if (text is not null && Leaked(text, markers) is { } marker)
                    {
                        leaks.Enqueue($"activity {activity.OperationName}: '{marker}' in {text}");
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        int seed = Environment.TickCount;
        var random = new Random(seed);
        int echoes = 0;
        for (int round = 0; round < 8; round++)
        {
            var prompt = $"Please summarise the memo about project {run}-{round} for the board";
            markers.Add($"{run}-{round}");

            // The private text travels as any kind of content a call sends: the prompt, the instructions, a tool's result or arguments.
            int kind = random.Next(4);
            var options = new ChatOptions { MaxOutputTokens = 50, Instructions = kind == 1 ? prompt : null }.ForTenant("acme").WithPolicy("weighted-random");
            List<ChatMessage> messages = kind switch
            {
                0 => [new ChatMessage(ChatRole.User, prompt)],
                1 => [new ChatMessage(ChatRole.User, "What is on the agenda?")],
                _ =>
                [
                    new ChatMessage(ChatRole.User, "What does the record say?"),
                    new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "lookup", new Dictionary<string, object?> { ["query"] = kind == 3 ? prompt : "the record" })]),
                    new ChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", kind == 2 ? prompt : "found")]),
                ],
            };

            // The event server answers 200 with an error (an event in a stream, else the body) quoting the request; the bare one repeats
            // the prompt and keys unquoted.
            bool streaming = random.Next(2) == 0;
            events.DefaultBehavior = new ServerBehavior
            {
                EchoRequest = true,
                RawBody = (streaming ? "data: " : string.Empty) + "{\"error\":{\"message\":\"{echo}\",\"type\":\"server_error\"}}" + (streaming ? "\n\n" : string.Empty),
                RawContentType = streaming ? "text/event-stream" : "application/json",
            };
            bare.DefaultBehavior = new ServerBehavior
            {
                StatusCode = 500,
                RawBody = $"upstream refused: {prompt} (key {plainKey}, Authorization: Bearer {openAIKey})",
                RawContentType = "text/plain",
            };
            bool failoverAll = random.Next(2) == 0;
            bool hedging = random.Next(3) == 0;
            using var app = Build(collector, failoverAll, hedging, [
                ("ollama", "Ollama", ollama.RootUrl, null),
                ("anthropic", "Anthropic", anthropic.RootUrl, anthropicKey),
                ("openai", "OpenAICompatible", openAI.BaseUrl, openAIKey),
                ("events", "OpenAICompatible", events.BaseUrl, plainKey),
                ("bare", "OpenAICompatible", bare.BaseUrl, plainKey)]);
            app.GetRequiredService<ILogger<PrivateTextTests>>().LogTrace("Capture check {Round}", round);
            var client = app.GetRequiredService<IChatClient>();

            Exception? error = null;
            try
            {
                if (streaming)
                {
                    await client.GetStreamingResponseAsync(messages, options).ToChatResponseAsync();
                }
                else
                {
                    await client.GetResponseAsync(messages, options);
                }
            }
            catch (Exception e)
            {
                error = e;
            }

            error.Should().NotBeNull("every route fails");
            foreach (var built in Chain(error!).Where(e => e is AllRoutesFailedException or InvalidResponseException or TimeoutException))
            {
                Leaked(built.Message, markers).Should().BeNull($"the router built {built.GetType().Name}: {built.Message} (seed {seed}, round {round})");
            }

            if (error is AllRoutesFailedException all)
            {
                all.Attempts.Select(a => a.ToString()).Should().OnlyContain(a => Leaked(a, markers) == null, $"seed {seed}");
            }

            // What the servers said does carry the markers (the provider's own exceptions keep it for the caller): the test has teeth.
            var providerErrors = error is AllRoutesFailedException failed ? failed.Attempts.Select(a => a.Error) : [error];
            echoes += providerErrors.SelectMany(e => e is null ? [] : Chain(e)).Count(e => e is not (AllRoutesFailedException or InvalidResponseException) && Leaked(e.Message, markers) is not null);
        }

        echoes.Should().BeGreaterThan(0, $"the servers echo the prompt and keys (seed {seed})");

        ollama.RequestCount.Should().BeGreaterThan(0);
        var records = collector.GetSnapshot();
        records.Should().Contain(r => r.Level == LogLevel.Trace && r.Message.StartsWith("Capture check", StringComparison.Ordinal), "every level is captured");
        records.Should().Contain(r => r.Level == LogLevel.Debug && r.Message.Contains("failure in full"), "the debug detail ran");
        foreach (var record in records)
        {
            var texts = new List<string?> { record.Message, record.Exception?.ToString() };
            texts.AddRange(record.StructuredState?.Select(s => s.Value) ?? []);
            foreach (var text in texts)
            {
                if (text is not null && Leaked(text, markers) is { } marker)
                {
                    leaks.Enqueue($"{record.Level} {record.Category}: '{marker}' in {text}");
                }
            }
        }

        leaks.Should().BeEmpty($"seed {seed}");
    }

    [Theory]
    [InlineData("invalid message \"Tell me about the secret merger\": bad role", "invalid message \"…\": bad role")]
    [InlineData("{\"error\":{\"message\":\"you said 'hello there'\",\"type\":\"invalid_request_error\",\"code\":\"bad_input\"}}", "{\"error\":{\"message\":\"…\",\"type\":\"invalid_request_error\",\"code\":\"bad_input\"}}")]
    [InlineData("This model's maximum context length is 8192 tokens, you've asked for 9000", "This model's maximum context length is 8192 tokens, you've asked for 9000")]
    [InlineData("Authorization: Bearer abcdefgh12345 rejected", "Authorization: *** *** rejected")]
    [InlineData("x-api-key=abcdefgh12345; retry", "x-api-key=***; retry")]
    [InlineData("key sk-ant-api03-abcdefghijklmnop is revoked", "key *** is revoked")]
    [InlineData("Service request failed.\nStatus: 401 (Unauthorized)\n\nHeaders:\nset-cookie: session=abc", "Service request failed. Status: 401 (Unauthorized)")]
    public void Provider_text_is_scrubbed_of_quoted_content_and_credentials_and_keeps_the_providers_words(string text, string scrubbed)
    {
        ErrorText.Scrub(text).Should().Be(scrubbed);
    }

    [Fact]
    public void The_calls_own_text_is_removed_where_a_failure_repeats_it_bare_and_a_configured_key_wherever_it_appears()
    {
        var key = "house-key-" + Guid.NewGuid().ToString("N");
        KnownSecrets.Add(key);
        var prompt = "Summarise the quarterly numbers for the northern region, please";
        var error = new HttpRequestException($"cannot process Summarise the quarterly numbers for the northern region (key {key}); try later");

        ErrorText.Observe(error, ErrorText.TextsOf([new ChatMessage(ChatRole.User, prompt)], null));

        var text = ErrorText.Of(error);
        text.Should().NotContain("quarterly").And.NotContain(key).And.StartWith("cannot process").And.EndWith("try later");
        ErrorText.Scrub(new string('a', 10_000) + key).Should().NotContain(key[..12]).And.HaveLength(ErrorText.MaxLength + 1);
    }

    [Fact]
    public void Instructions_tool_arguments_and_tool_results_are_removed_where_a_failure_repeats_them_bare()
    {
        var messages = new List<ChatMessage>
        {
            new(ChatRole.User, "hi"),
            new(ChatRole.Assistant, [new FunctionCallContent("c1", "lookup", new Dictionary<string, object?> { ["address"] = "221B Baker Street London NW1" })]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", "patient record 12345 diabetic type two")]),
        };
        var options = new ChatOptions { Instructions = "you are a secret agent for the acme corporation" };
        var error = new HttpRequestException("could not process you are a secret agent for the acme corporation, 221B Baker Street London NW1, patient record 12345 diabetic type two");

        ErrorText.Observe(error, ErrorText.TextsOf(messages, options));

        ErrorText.Of(error).Should().NotContain("secret agent").And.NotContain("Baker Street").And.NotContain("diabetic").And.StartWith("could not process");
    }

    private static string? Leaked(string text, IEnumerable<string> markers) => markers.FirstOrDefault(m => text.Contains(m, StringComparison.Ordinal));

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    private static ServiceProvider Build(FakeLogCollector collector, bool failoverAll, bool hedging, (string Name, string Provider, Uri Endpoint, string? Key)[] routes)
    {
        var settings = new Dictionary<string, string?>
        {
            ["InferenceRouter:FailoverOnNonTransientErrors"] = failoverAll ? "true" : "false",
            ["InferenceRouter:HedgingDelay"] = hedging ? "00:00:00.010" : null,
            ["InferenceRouter:CircuitBreaker:Enabled"] = "false",
        };
        for (int i = 0; i < routes.Length; i++)
        {
            var (name, provider, endpoint, key) = routes[i];
            string prefix = $"InferenceRouter:Routes:{i}:";
            settings[prefix + "Name"] = name;
            settings[prefix + "Provider"] = provider;
            settings[prefix + "Endpoint"] = endpoint.ToString();
            settings[prefix + "Model"] = "model-" + name;
            settings[prefix + "ApiKey"] = key;
            settings[prefix + "InputPricePerMillion"] = "1";
            settings[prefix + "OutputPricePerMillion"] = "2";
        }

        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(collector)).SetMinimumLevel(LogLevel.Trace));
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("InferenceRouter"))
            .UseSemanticCache()
            .UseBudgets();
        return services.BuildServiceProvider();
    }
}
