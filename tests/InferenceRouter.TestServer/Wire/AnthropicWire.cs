using System.Text.Json.Nodes;

namespace InferenceRouter.TestServer;

/// <summary>
/// Anthropic's Messages API (<c>POST /v1/messages</c>): a message object, or SSE with named events (<c>message_start</c>,
/// <c>content_block_delta</c>, <c>message_delta</c> with the output tokens, <c>message_stop</c>); errors as <c>{"type":"error","error":{…}}</c>.
/// </summary>
internal sealed class AnthropicWire : WireFormat
{
    public override string Path => "/v1/messages";

    public override string MalformedBody => "{\"id\": \"msg_broken\", \"type\": \"message\", \"content\": [";

    public override (string? Model, bool Stream, bool IncludeUsage) Read(JsonObject body) =>
        (body["model"]?.GetValue<string>(), body["stream"]?.GetValue<bool>() ?? false, true);

    public override JsonObject Answer(Exchange exchange, string text, int promptTokens, int completionTokens) => new()
    {
        ["id"] = exchange.Id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = exchange.Model,
        ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }),
        ["stop_reason"] = "end_turn",
        ["stop_sequence"] = null,
        ["usage"] = new JsonObject { ["input_tokens"] = promptTokens, ["output_tokens"] = completionTokens },
    };

    public override IEnumerable<JsonObject> StreamStart(Exchange exchange, int promptTokens)
    {
        yield return new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = exchange.Id,
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = exchange.Model,
                ["content"] = new JsonArray(),
                ["stop_reason"] = null,
                ["stop_sequence"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = promptTokens, ["output_tokens"] = 1 },
            },
        };
        yield return new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = string.Empty } };
    }

    public override JsonObject StreamPiece(Exchange exchange, string piece, bool first) =>
        new() { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = piece } };

    public override IEnumerable<JsonObject> StreamEnd(Exchange exchange, int promptTokens, int completionTokens, bool includeUsage)
    {
        yield return new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 };
        yield return new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = "end_turn", ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = completionTokens },
        };
        yield return new JsonObject { ["type"] = "message_stop" };
    }

    public override JsonObject Error(int status) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject
        {
            ["type"] = status switch { 429 => "rate_limit_error", 529 => "overloaded_error", >= 500 => "api_error", 401 => "authentication_error", _ => "invalid_request_error" },
            ["message"] = $"Scripted error {status}",
        },
    };

    public override string Frame(JsonObject json) => $"event: {json["type"]!.GetValue<string>()}\ndata: {json.ToJsonString()}\n\n";
}
