using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace InferenceRouter.TestServer;

/// <summary>
/// An OpenAI-compatible chat completions server on 127.0.0.1 with a random port, scriptable per request: latency, time to first
/// token, error statuses with Retry-After, dropped connections, malformed bodies. Speaks JSON and SSE as OpenAI does.
/// </summary>
/// <remarks>Thread-safe. Each answer comes from <see cref="Script"/> if set, else the next queued behavior, else <see cref="DefaultBehavior"/>.</remarks>
public sealed class FakeOpenAIServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ServerBehavior> _queue = new();
    private int _requestCount;
    private int _active;
    private int _completed;
    private int _aborted;

    private FakeOpenAIServer(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    /// <summary>Gets the server's name (it appears in default answers).</summary>
    public string Name { get; }

    /// <summary>Gets the base URL the OpenAI SDK talks to, ending in <c>/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Gets or sets the behavior used when nothing is queued and no script is set.</summary>
    public ServerBehavior DefaultBehavior { get; set; } = ServerBehavior.Ok;

    /// <summary>Gets or sets a function from request number (1-based) to behavior, taking precedence over the queue.</summary>
    public Func<int, ServerBehavior>? Script { get; set; }

    /// <summary>Gets the requests received, in arrival order.</summary>
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Gets the number of chat requests received.</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>Gets the number of requests being handled now.</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    /// <summary>Gets the number of requests answered to the end.</summary>
    public int CompletedRequests => Volatile.Read(ref _completed);

    /// <summary>Gets the number of requests that did not finish: the client went away (cancelled, hedged) or the script dropped the connection.</summary>
    public int AbortedRequests => Volatile.Read(ref _aborted);

    /// <summary>Starts a server.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="defaultBehavior">Its default behavior.</param>
    /// <returns>The running server.</returns>
    public static async Task<FakeOpenAIServer> StartAsync(string name = "fake", ServerBehavior? defaultBehavior = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        var app = builder.Build();
        var server = new FakeOpenAIServer(name, app);
        if (defaultBehavior is not null)
        {
            server.DefaultBehavior = defaultBehavior;
        }

        app.MapPost("/v1/chat/completions", server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        server.BaseUrl = new Uri(app.Urls.First() + "/v1");
        return server;
    }

    /// <summary>Queues behaviors for the next requests, in order.</summary>
    /// <param name="behaviors">The behaviors.</param>
    public void Enqueue(params ServerBehavior[] behaviors)
    {
        foreach (var behavior in behaviors)
        {
            _queue.Enqueue(behavior);
        }
    }

    /// <summary>Creates a real OpenAI SDK client for this server, with the SDK's own retries off (the router decides).</summary>
    /// <param name="model">The model id to ask for.</param>
    /// <returns>The client.</returns>
    public IChatClient CreateChatClient(string model = "test-model") =>
        new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = BaseUrl, RetryPolicy = new ClientRetryPolicy(0) })
            .GetChatClient(model)
            .AsIChatClient();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        int number = Interlocked.Increment(ref _requestCount);
        Interlocked.Increment(ref _active);
        var aborted = context.RequestAborted;
        bool finished = false;
        try
        {
            var body = (JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(aborted).ConfigureAwait(false)) as JsonObject) ?? [];
            string? model = body["model"]?.GetValue<string>();
            bool stream = body["stream"]?.GetValue<bool>() ?? false;
            bool includeUsage = body["stream_options"]?["include_usage"]?.GetValue<bool>() ?? false;
            Requests.Enqueue(new RecordedRequest(number, model, stream, body));

            var behavior = Script?.Invoke(number) ?? (_queue.TryDequeue(out var queued) ? queued : DefaultBehavior);
            if (behavior.Latency > TimeSpan.Zero)
            {
                await Task.Delay(behavior.Latency, aborted).ConfigureAwait(false);
            }

            if (behavior.Fault == ServerFault.DropBeforeResponse)
            {
                context.Abort();
                return;
            }

            foreach (var (name, value) in behavior.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = value;
            }

            if (behavior.RawBody is { } raw)
            {
                context.Response.StatusCode = behavior.StatusCode;
                context.Response.ContentType = behavior.RawContentType ?? (stream ? "text/event-stream" : "application/json");
                await context.Response.WriteAsync(raw, aborted).ConfigureAwait(false);
            }
            else if (behavior.StatusCode != 200)
            {
                await WriteErrorAsync(context, behavior).ConfigureAwait(false);
            }
            else if (behavior.Fault == ServerFault.MalformedBody)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\": \"chatcmpl-broken\", \"choices\": [", aborted).ConfigureAwait(false);
            }
            else if (stream)
            {
                if (!await WriteStreamAsync(context, behavior, model, includeUsage, number, body).ConfigureAwait(false))
                {
                    return;
                }
            }
            else
            {
                await WriteCompletionAsync(context, behavior, model, number, body).ConfigureAwait(false);
            }

            finished = true;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            Interlocked.Decrement(ref _active);
            Interlocked.Increment(ref finished ? ref _completed : ref _aborted);
        }
    }

    private string AnswerText(ServerBehavior behavior) => behavior.Text ?? $"Hello from {Name}";

    private async Task WriteCompletionAsync(HttpContext context, ServerBehavior behavior, string? model, int number, JsonObject request)
    {
        var json = new JsonObject
        {
            ["id"] = $"chatcmpl-{Name}-{number}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = AnswerText(behavior) },
                ["finish_reason"] = "stop",
            }),
            ["usage"] = Usage(behavior, request),
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task<bool> WriteStreamAsync(HttpContext context, ServerBehavior behavior, string? model, bool includeUsage, int number, JsonObject request)
    {
        var aborted = context.RequestAborted;
        context.Response.ContentType = "text/event-stream";
        await context.Response.StartAsync(aborted).ConfigureAwait(false);
        if (behavior.TimeToFirstToken > TimeSpan.Zero)
        {
            await Task.Delay(behavior.TimeToFirstToken, aborted).ConfigureAwait(false);
        }

        string id = $"chatcmpl-{Name}-{number}";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var pieces = Split(AnswerText(behavior), behavior.Chunks);
        for (int i = 0; i < pieces.Count; i++)
        {
            if (behavior.Fault == ServerFault.DropMidStream && i == behavior.DropAfterChunks)
            {
                // Let the flushed chunks leave the socket first: an abort discards whatever Kestrel has not sent yet.
                await Task.Delay(200, aborted).ConfigureAwait(false);
                context.Abort();
                return false;
            }

            if (i > 0 && behavior.InterChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(behavior.InterChunkDelay, aborted).ConfigureAwait(false);
            }

            var delta = new JsonObject { ["content"] = pieces[i] };
            if (i == 0)
            {
                delta["role"] = "assistant";
            }

            await WriteEventAsync(context, Chunk(id, created, model, delta, finishReason: null)).ConfigureAwait(false);
        }

        await WriteEventAsync(context, Chunk(id, created, model, [], "stop")).ConfigureAwait(false);
        if (includeUsage)
        {
            var usage = Chunk(id, created, model, null, null);
            usage["choices"] = new JsonArray();
            usage["usage"] = Usage(behavior, request);
            await WriteEventAsync(context, usage).ConfigureAwait(false);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", aborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
        return true;
    }

    private static JsonObject Chunk(string id, long created, string? model, JsonObject? delta, string? finishReason) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
    };

    private static async Task WriteEventAsync(HttpContext context, JsonObject json)
    {
        await context.Response.WriteAsync("data: " + json.ToJsonString() + "\n\n", context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteErrorAsync(HttpContext context, ServerBehavior behavior)
    {
        context.Response.StatusCode = behavior.StatusCode;
        if (behavior.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        var error = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = $"Scripted error {behavior.StatusCode}",
                ["type"] = behavior.StatusCode == 429 ? "rate_limit_exceeded" : behavior.StatusCode >= 500 ? "server_error" : "invalid_request_error",
                ["code"] = null,
            },
        };
        await context.Response.WriteAsync(error.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private static JsonObject Usage(ServerBehavior behavior, JsonObject request)
    {
        var (prompt, completion) = behavior.Billing?.Invoke(request) ?? (behavior.PromptTokens, behavior.CompletionTokens);
        return new()
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
        };
    }

    private static List<string> Split(string text, int chunks)
    {
        chunks = Math.Clamp(chunks, 1, Math.Max(1, text.Length));
        var pieces = new List<string>(chunks);
        int size = (int)Math.Ceiling(text.Length / (double)chunks);
        for (int i = 0; i < text.Length; i += size)
        {
            pieces.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        }

        return pieces.Count == 0 ? [string.Empty] : pieces;
    }
}
