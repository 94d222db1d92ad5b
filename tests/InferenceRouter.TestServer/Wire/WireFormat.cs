using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace InferenceRouter.TestServer;

/// <summary>One provider's chat API as the fake server speaks it: how a request reads and how answers, streams and errors are written.</summary>
internal abstract class WireFormat
{
    /// <summary>Gets the path the API is served at.</summary>
    public abstract string Path { get; }

    /// <summary>Gets the content type of a stream.</summary>
    public virtual string StreamContentType => "text/event-stream";

    /// <summary>Reads the model asked for, whether the request streams, and whether a stream should end with usage.</summary>
    public abstract (string? Model, bool Stream, bool IncludeUsage) Read(JsonObject body);

    /// <summary>Writes a whole answer.</summary>
    public abstract JsonObject Answer(Exchange exchange, string text, int promptTokens, int completionTokens);

    /// <summary>Gets the events that open a stream (before the first piece of text).</summary>
    public virtual IEnumerable<JsonObject> StreamStart(Exchange exchange, int promptTokens) => [];

    /// <summary>Gets the event carrying one piece of text.</summary>
    public abstract JsonObject StreamPiece(Exchange exchange, string piece, bool first);

    /// <summary>Gets the events that close a stream.</summary>
    public abstract IEnumerable<JsonObject> StreamEnd(Exchange exchange, int promptTokens, int completionTokens, bool includeUsage);

    /// <summary>Gets a trailing line after the last event (OpenAI's <c>[DONE]</c>), or null.</summary>
    public virtual string? StreamTerminator => null;

    /// <summary>Gets the error body for <paramref name="status"/>.</summary>
    public abstract JsonObject Error(int status);

    /// <summary>Gets a 200 body that is not valid JSON of this API.</summary>
    public abstract string MalformedBody { get; }

    /// <summary>Writes one stream event in this API's framing (SSE <c>data:</c> lines, with <c>event:</c> names where the API has them).</summary>
    public virtual string Frame(JsonObject json) => "data: " + json.ToJsonString() + "\n\n";

    /// <summary>The request being answered: ids and timestamps shared by its events.</summary>
    internal sealed record Exchange(string Id, string? Model, long Created);

    protected static string CreatedAt(Exchange exchange) => DateTimeOffset.FromUnixTimeSeconds(exchange.Created).UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes an error answer with the API's body (its message replaced by <paramref name="message"/> when given) and an optional Retry-After.</summary>
    public async Task WriteErrorAsync(HttpContext context, ServerBehavior behavior, string? message = null)
    {
        context.Response.StatusCode = behavior.StatusCode;
        if (behavior.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        var error = Error(behavior.StatusCode);
        if (message is not null)
        {
            if (error["error"] is JsonObject details)
            {
                details["message"] = message;
            }
            else
            {
                error["error"] = message;
            }
        }

        await context.Response.WriteAsync(error.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }
}
