namespace InferenceRouter.TestServer;

/// <summary>How the fake server answers one request: delays, status, faults, text and usage.</summary>
public sealed record ServerBehavior
{
    /// <summary>Gets a plain, fast, successful answer.</summary>
    public static ServerBehavior Ok { get; } = new();

    /// <summary>Gets the delay before the response headers (non-streaming: before the whole body).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Gets the extra delay before the first streamed chunk.</summary>
    public TimeSpan TimeToFirstToken { get; init; }

    /// <summary>Gets the delay between streamed chunks.</summary>
    public TimeSpan InterChunkDelay { get; init; }

    /// <summary>Gets the HTTP status; anything but 200 sends the wire format's error body.</summary>
    public int StatusCode { get; init; } = 200;

    /// <summary>Gets the Retry-After header to send with an error, in whole seconds.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Gets the connection-level fault, if any.</summary>
    public ServerFault Fault { get; init; }

    /// <summary>Gets how many chunks are sent before <see cref="ServerFault.DropMidStream"/> drops the connection.</summary>
    public int DropAfterChunks { get; init; } = 2;

    /// <summary>Gets the answer's text; null answers "Hello from {server name}".</summary>
    public string? Text { get; init; }

    /// <summary>Gets the number of chunks a streamed answer is split into (at most the text's length).</summary>
    public int Chunks { get; init; } = 5;

    /// <summary>Gets the prompt tokens reported in usage.</summary>
    public int PromptTokens { get; init; } = 11;

    /// <summary>Gets the completion tokens reported in usage.</summary>
    public int CompletionTokens { get; init; } = 7;

    /// <summary>
    /// Gets a body to answer with, as it is, with status 200 (or <see cref="StatusCode"/>) — for what real servers send that the SDK does not
    /// expect: an SSE <c>data: {"error": …}</c> event in a stream, a JSON error body instead of an event stream, a JSON body of the wrong shape.
    /// </summary>
    public string? RawBody { get; init; }

    /// <summary>
    /// Gets a value indicating whether the server, after <see cref="RawBody"/> (its headers and bytes flushed, none when empty), keeps
    /// the response open and sends nothing more until the client goes away: "headers then silence", "one token then silence".
    /// </summary>
    public bool StallAfterBody { get; init; }

    /// <summary>
    /// Gets the number of chunks a stream sends before it stalls (sends nothing more, keeps the connection open) until the client goes
    /// away; null: it does not stall. Zero stalls after the headers and the stream's opening events.
    /// </summary>
    public int? StallAfterChunks { get; init; }

    /// <summary>
    /// Gets a value indicating whether the error echoes what the server was sent, as servers that quote what they could not accept do
    /// (Ollama's 400 quotes the request; some echo the <c>Authorization</c> header): an error status's message becomes the request body
    /// and its key headers, and <c>{echo}</c> in <see cref="RawBody"/> is replaced by the same text (JSON-escaped).
    /// </summary>
    public bool EchoRequest { get; init; }

    /// <summary>Gets the content type of <see cref="RawBody"/>; <c>text/event-stream</c> for streaming requests, <c>application/json</c> otherwise, when null.</summary>
    public string? RawContentType { get; init; }

    /// <summary>Gets extra response headers (e.g. an odd <c>retry-after-ms</c>), sent as they are.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>
    /// Gets how the server bills a request from its JSON body (prompt and completion tokens), as a real provider does; when set it replaces
    /// <see cref="PromptTokens"/> and <see cref="CompletionTokens"/>.
    /// </summary>
    public Func<System.Text.Json.Nodes.JsonObject, (int Prompt, int Completion)>? Billing { get; init; }

    /// <summary>An error answer with <paramref name="status"/>.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="retryAfterSeconds">The Retry-After header, if any.</param>
    /// <returns>The behavior.</returns>
    public static ServerBehavior Error(int status, int? retryAfterSeconds = null) => new() { StatusCode = status, RetryAfterSeconds = retryAfterSeconds };
}
