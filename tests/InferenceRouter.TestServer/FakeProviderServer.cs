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
/// A provider's chat server on 127.0.0.1 with a random port, scriptable per request: latency, time to first token, error statuses
/// with Retry-After, dropped connections, malformed bodies. Speaks three wire formats at once, each as its provider does: OpenAI's
/// chat completions (<c>/v1/chat/completions</c>, JSON and SSE), Anthropic's Messages API (<c>/v1/messages</c>, JSON and SSE with
/// named events) and Ollama's chat API (<c>/api/chat</c>, JSON and newline-delimited JSON).
/// </summary>
/// <remarks>Thread-safe. Each answer comes from <see cref="Script"/> if set, else the next queued behavior, else <see cref="DefaultBehavior"/>.</remarks>
public sealed class FakeProviderServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ServerBehavior> _queue = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _requestCount;
    private int _active;
    private int _completed;
    private int _aborted;
    private int _rateLimited;

    private FakeProviderServer(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    /// <summary>Gets the server's name (it appears in default answers).</summary>
    public string Name { get; }

    /// <summary>Gets the base URL the OpenAI SDK talks to, ending in <c>/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Gets the server's root URL: the Anthropic SDK's base URL (it adds <c>/v1/messages</c>) and Ollama's (<c>/api/chat</c>).</summary>
    public Uri RootUrl { get; private set; } = null!;

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

    /// <summary>Gets or sets the account's limits the server enforces (429 with Retry-After beyond them, rate-limit headers on every answer), or null for none.</summary>
    public ServerQuota? Quota { get; set; }

    /// <summary>Gets the number of requests answered 429 because <see cref="Quota"/> was full.</summary>
    public int RateLimitedRequests => Volatile.Read(ref _rateLimited);

    /// <summary>Gets the number of requests that did not finish: the client went away (cancelled, hedged) or the script dropped the connection.</summary>
    public int AbortedRequests => Volatile.Read(ref _aborted);

    /// <summary>Starts a server.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="defaultBehavior">Its default behavior.</param>
    /// <returns>The running server.</returns>
    public static async Task<FakeProviderServer> StartAsync(string name = "fake", ServerBehavior? defaultBehavior = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        var app = builder.Build();
        var server = new FakeProviderServer(name, app);
        if (defaultBehavior is not null)
        {
            server.DefaultBehavior = defaultBehavior;
        }

        foreach (var wire in new WireFormat[] { new OpenAIWire(), new AnthropicWire(), new OllamaWire() })
        {
            app.MapPost(wire.Path, context => server.HandleAsync(context, wire));
        }

        await app.StartAsync().ConfigureAwait(false);
        server.RootUrl = new Uri(app.Urls.First());
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
            .AsRouteClient();

    /// <summary>Creates a real OpenAI SDK client for this server whose pipeline reads the rate-limit headers into <paramref name="rateLimits"/>.</summary>
    /// <param name="rateLimits">The route's record of its provider's limits.</param>
    /// <param name="model">The model id to ask for.</param>
    /// <returns>The client.</returns>
    public IChatClient CreateChatClient(ProviderRateLimits rateLimits, string model = "test-model") =>
        new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = BaseUrl, RetryPolicy = new ClientRetryPolicy(0) }.AddProviderRateLimits(rateLimits))
            .GetChatClient(model)
            .AsRouteClient(rateLimits);

    /// <summary>Creates an Anthropic SDK client for this server whose <see cref="HttpClient"/> reads the rate-limit headers into <paramref name="rateLimits"/>.</summary>
    /// <param name="rateLimits">The route's record of its provider's limits.</param>
    /// <param name="model">The model id to ask for.</param>
    /// <returns>The client.</returns>
    public IChatClient CreateAnthropicChatClient(ProviderRateLimits rateLimits, string model = "claude-test")
    {
        var handler = rateLimits.CreateHandler();
        handler.InnerHandler = new HttpClientHandler();
        return new Anthropic.AnthropicClient(new Anthropic.Core.ClientOptions { ApiKey = "test-key", BaseUrl = RootUrl.ToString().TrimEnd('/'), MaxRetries = 0, HttpClient = new HttpClient(handler) })
            .AsRouteClient(model, defaultMaxOutputTokens: 1024)
            .WithProviderRateLimits(rateLimits);
    }

    /// <summary>Creates a client from the official Anthropic SDK for this server, with the SDK's own retries off.</summary>
    /// <param name="model">The model id to ask for.</param>
    /// <returns>The client.</returns>
    public IChatClient CreateAnthropicChatClient(string model = "claude-test") =>
        new Anthropic.AnthropicClient(new Anthropic.Core.ClientOptions { ApiKey = "test-key", BaseUrl = RootUrl.ToString().TrimEnd('/'), MaxRetries = 0 })
            .AsRouteClient(model, defaultMaxOutputTokens: 1024);

    /// <summary>Creates an OllamaSharp client for this server.</summary>
    /// <param name="model">The model id to ask for.</param>
    /// <returns>The client.</returns>
    public IChatClient CreateOllamaChatClient(string model = "llama-test") => new OllamaSharp.OllamaApiClient(RootUrl, model).AsRouteClient();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // Stalled responses end now (their connections are aborted), so stopping does not wait for them.
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context, WireFormat wire)
    {
        int number = Interlocked.Increment(ref _requestCount);
        Interlocked.Increment(ref _active);
        var aborted = context.RequestAborted;
        bool finished = false;
        ServerQuota? admittedBy = null;
        bool released = false;
        void ReleaseQuota() => admittedBy?.Release(ref released);
        try
        {
            var text = await new StreamReader(context.Request.Body).ReadToEndAsync(aborted).ConfigureAwait(false);
            var body = (JsonNode.Parse(text) as JsonObject) ?? [];
            var (model, stream, includeUsage) = wire.Read(body);
            Requests.Enqueue(new RecordedRequest(number, model, stream, body) { Path = wire.Path });

            var behavior = Script?.Invoke(number) ?? (_queue.TryDequeue(out var queued) ? queued : DefaultBehavior);
            if (Quota is { } quota)
            {
                var (billedPrompt, billedCompletion) = behavior.Billing?.Invoke(body) ?? (behavior.PromptTokens, behavior.CompletionTokens);
                bool admitted = quota.TryAdmit(billedPrompt + billedCompletion, out var wait);
                foreach (var (name, value) in quota.Headers(anthropic: wire is AnthropicWire))
                {
                    context.Response.Headers[name] = value;
                }

                if (!admitted)
                {
                    Interlocked.Increment(ref _rateLimited);
                    await wire.WriteErrorAsync(context, ServerBehavior.Error(429, Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)))).ConfigureAwait(false);
                    finished = true;
                    return;
                }

                admittedBy = quota;
            }

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

            var exchange = new WireFormat.Exchange($"{Name}-{number}", model, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            var (prompt, completion) = behavior.Billing?.Invoke(body) ?? (behavior.PromptTokens, behavior.CompletionTokens);
            var echo = behavior.EchoRequest
                ? $"cannot accept {text} (authorization: {context.Request.Headers.Authorization}, x-api-key: {context.Request.Headers["x-api-key"]})"
                : null;
            if (behavior.RawBody is { } raw)
            {
                if (echo is not null)
                {
                    raw = raw.Replace("{echo}", System.Text.Json.JsonEncodedText.Encode(echo).ToString(), StringComparison.Ordinal);
                }

                context.Response.StatusCode = behavior.StatusCode;
                context.Response.ContentType = behavior.RawContentType ?? (stream ? wire.StreamContentType : "application/json");
                await context.Response.WriteAsync(raw, aborted).ConfigureAwait(false);
                if (behavior.StallAfterBody)
                {
                    await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
                    await StallAsync(context).ConfigureAwait(false);
                    return;
                }
            }
            else if (behavior.StatusCode != 200)
            {
                ReleaseQuota();
                await wire.WriteErrorAsync(context, behavior, echo).ConfigureAwait(false);
            }
            else if (behavior.Fault == ServerFault.MalformedBody)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(wire.MalformedBody, aborted).ConfigureAwait(false);
            }
            else if (stream)
            {
                if (!await WriteStreamAsync(context, wire, behavior, exchange, includeUsage, prompt, completion, ReleaseQuota).ConfigureAwait(false))
                {
                    return;
                }
            }
            else
            {
                context.Response.ContentType = "application/json";
                ReleaseQuota();
                await context.Response.WriteAsync(wire.Answer(exchange, AnswerText(behavior), prompt, completion).ToJsonString(), aborted).ConfigureAwait(false);
            }

            finished = true;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            ReleaseQuota();
            Interlocked.Decrement(ref _active);
            Interlocked.Increment(ref finished ? ref _completed : ref _aborted);
        }
    }

    private string AnswerText(ServerBehavior behavior) => behavior.Text ?? $"Hello from {Name}";

    private async Task<bool> WriteStreamAsync(HttpContext context, WireFormat wire, ServerBehavior behavior, WireFormat.Exchange exchange, bool includeUsage, int prompt, int completion, Action beforeEnd)
    {
        var aborted = context.RequestAborted;
        context.Response.ContentType = wire.StreamContentType;
        await context.Response.StartAsync(aborted).ConfigureAwait(false);
        if (behavior.TimeToFirstToken > TimeSpan.Zero)
        {
            await Task.Delay(behavior.TimeToFirstToken, aborted).ConfigureAwait(false);
        }

        foreach (var start in wire.StreamStart(exchange, prompt))
        {
            await WriteEventAsync(context, wire, start).ConfigureAwait(false);
        }

        var pieces = Split(AnswerText(behavior), behavior.Chunks);
        for (int i = 0; i < pieces.Count; i++)
        {
            if (behavior.StallAfterChunks == i)
            {
                await StallAsync(context).ConfigureAwait(false);
                return false;
            }

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

            await WriteEventAsync(context, wire, wire.StreamPiece(exchange, pieces[i], first: i == 0)).ConfigureAwait(false);
        }

        beforeEnd();
        foreach (var end in wire.StreamEnd(exchange, prompt, completion, includeUsage))
        {
            await WriteEventAsync(context, wire, end).ConfigureAwait(false);
        }

        if (wire.StreamTerminator is { } terminator)
        {
            await context.Response.WriteAsync(terminator, aborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Sends nothing more and keeps the response open until the client goes away (or the server stops: then the connection is aborted).</summary>
    private async Task StallAsync(HttpContext context)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            context.Abort();
        }
    }

    private static async Task WriteEventAsync(HttpContext context, WireFormat wire, JsonObject json)
    {
        await context.Response.WriteAsync(wire.Frame(json), context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
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
