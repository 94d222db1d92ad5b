using System.Text.Json.Nodes;

namespace InferenceRouter.TestServer;

/// <summary>OpenAI's chat completions: JSON, or SSE <c>data:</c> chunks ending in <c>[DONE]</c>, usage when <c>stream_options.include_usage</c> asks.</summary>
internal sealed class OpenAIWire : WireFormat
{
    public override string Path => "/v1/chat/completions";

    public override string? StreamTerminator => "data: [DONE]\n\n";

    public override string MalformedBody => "{\"id\": \"chatcmpl-broken\", \"choices\": [";

    public override (string? Model, bool Stream, bool IncludeUsage) Read(JsonObject body) =>
        (body["model"]?.GetValue<string>(), body["stream"]?.GetValue<bool>() ?? false, body["stream_options"]?["include_usage"]?.GetValue<bool>() ?? false);

    public override JsonObject Answer(Exchange exchange, string text, int promptTokens, int completionTokens) => new()
    {
        ["id"] = exchange.Id,
        ["object"] = "chat.completion",
        ["created"] = exchange.Created,
        ["model"] = exchange.Model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            ["finish_reason"] = "stop",
        }),
        ["usage"] = Usage(promptTokens, completionTokens),
    };

    public override JsonObject StreamPiece(Exchange exchange, string piece, bool first)
    {
        var delta = new JsonObject { ["content"] = piece };
        if (first)
        {
            delta["role"] = "assistant";
        }

        return Chunk(exchange, delta, finishReason: null);
    }

    public override IEnumerable<JsonObject> StreamEnd(Exchange exchange, int promptTokens, int completionTokens, bool includeUsage)
    {
        yield return Chunk(exchange, [], "stop");
        if (includeUsage)
        {
            var usage = Chunk(exchange, null, null);
            usage["usage"] = Usage(promptTokens, completionTokens);
            yield return usage;
        }
    }

    public override JsonObject Error(int status) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = $"Scripted error {status}",
            ["type"] = status == 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error",
            ["code"] = null,
        },
    };

    private static JsonObject Chunk(Exchange exchange, JsonObject? delta, string? finishReason) => new()
    {
        ["id"] = exchange.Id,
        ["object"] = "chat.completion.chunk",
        ["created"] = exchange.Created,
        ["model"] = exchange.Model,
        ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
    };

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
    };
}
