using System.Text.Json.Nodes;

namespace InferenceRouter.TestServer;

/// <summary>
/// Ollama's chat API (<c>POST /api/chat</c>): one JSON object, or newline-delimited JSON objects with <c>done: false</c> and a last
/// one with <c>done: true</c>, <c>prompt_eval_count</c> and <c>eval_count</c>; errors as <c>{"error": "…"}</c>.
/// </summary>
internal sealed class OllamaWire : WireFormat
{
    public override string Path => "/api/chat";

    public override string StreamContentType => "application/x-ndjson";

    public override string MalformedBody => "{\"model\": \"broken\", \"message\": {";

    // Ollama streams unless told not to.
    public override (string? Model, bool Stream, bool IncludeUsage) Read(JsonObject body) =>
        (body["model"]?.GetValue<string>(), body["stream"]?.GetValue<bool>() ?? true, true);

    public override JsonObject Answer(Exchange exchange, string text, int promptTokens, int completionTokens) =>
        Final(exchange, text, promptTokens, completionTokens);

    public override JsonObject StreamPiece(Exchange exchange, string piece, bool first) => new()
    {
        ["model"] = exchange.Model,
        ["created_at"] = CreatedAt(exchange),
        ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = piece },
        ["done"] = false,
    };

    public override IEnumerable<JsonObject> StreamEnd(Exchange exchange, int promptTokens, int completionTokens, bool includeUsage)
    {
        yield return Final(exchange, string.Empty, promptTokens, completionTokens);
    }

    public override JsonObject Error(int status) => new() { ["error"] = $"Scripted error {status}" };

    public override string Frame(JsonObject json) => json.ToJsonString() + "\n";

    private static JsonObject Final(Exchange exchange, string text, int promptTokens, int completionTokens) => new()
    {
        ["model"] = exchange.Model,
        ["created_at"] = CreatedAt(exchange),
        ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
        ["done"] = true,
        ["done_reason"] = "stop",
        ["total_duration"] = 1_000_000,
        ["prompt_eval_count"] = promptTokens,
        ["eval_count"] = completionTokens,
    };
}
