using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// Reads the error a server put where an answer should be, as an SSE event inside a 200 stream or as a failed response's body, in every
/// shape OpenAI-compatible servers send: <c>{"error": {"message", "type", "code"}}</c> (OpenAI, vLLM, llama.cpp),
/// <c>{"type": "error", "error": {"type", "message"}}</c> (Anthropic), <c>{"error": "…"}</c> (Ollama; TGI adds <c>error_type</c>), the
/// fields at the top level <c>{"object": "error", "message", "type", "code"}</c> (vLLM, FastAPI-style servers) and <c>{"detail": …}</c>
/// (FastAPI, TGI). It reads JSON: a response's or update's raw representation when it is JSON, or an SDK model a provider package wrote
/// as JSON (<see cref="IProviderFailureClassifier.TryReadErrorEvent"/>). Whatever the shape, the error is then classified by the one
/// table every provider goes by (<see cref="FailureClassifier.ClassifyProviderError"/>).
/// </summary>
/// <remarks>Thread-safe; never throws for input that is not JSON.</remarks>
public static class ProviderErrorEvent
{
    /// <summary>
    /// Reads the error in <paramref name="raw"/>, when it is a JSON object (a <see cref="JsonElement"/>, UTF-8 bytes or a string) with an
    /// <c>error</c> or <c>detail</c> property, or with a string <c>message</c> at the top level (never part of an answer chunk).
    /// </summary>
    /// <param name="raw">The raw representation; anything else is no error.</param>
    /// <param name="error">
    /// The error: its text (<c>error</c> as a string, or <c>error.message</c>), type, code, and status (a numeric <c>code</c> or
    /// <c>status</c> from 400 to 599, else the one its type or code names: <c>rate_limit_exceeded</c> 429, <c>invalid_request_error</c> 400…).
    /// </param>
    /// <returns><see langword="true"/> when <paramref name="raw"/> is an error.</returns>
    public static bool TryRead(object? raw, [NotNullWhen(true)] out ProviderError? error)
    {
        error = null;
        JsonDocument? document = null;
        try
        {
            document = raw switch
            {
                null => null,
                JsonElement element => JsonDocument.Parse(element.GetRawText()),
                ReadOnlyMemory<byte> utf8 => JsonDocument.Parse(utf8),
                byte[] utf8 => JsonDocument.Parse(utf8),
                string text => JsonDocument.Parse(text),
                _ => null,
            };
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return false; // not a JSON model: no error to read
        }

        using (document)
        {
            if (document is null || document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var root = document.RootElement;
            if (IsPresent(root, "error", out var body))
            {
                // {"error": "…"} may carry its type beside it (TGI's error_type).
                error = body.ValueKind == JsonValueKind.Object ? Read(body) : Read(root, message: TextOf(body), typeName: "error_type");
                return true;
            }

            if (IsPresent(root, "detail", out var detail))
            {
                // FastAPI's HTTPException ("detail": "…" or an object) and its validation errors ("detail": [{"msg": …}]).
                error = detail.ValueKind == JsonValueKind.Object ? Read(detail) : Read(root, message: TextOf(detail));
                return true;
            }

            if (StringOf(root, "message") is not null)
            {
                // The error's fields at the top level (vLLM's {"object": "error", "message", "type", "code"}): answer chunks never carry a
                // string "message" (Ollama's is an object), so this is an error whatever else it says.
                error = Read(root);
                return true;
            }

            return false;
        }
    }

    /// <summary>Reads an <c>error</c> value: a string, or an object with <c>message</c>, <c>type</c>, <c>code</c> and <c>status</c>.</summary>
    internal static ProviderError Read(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object)
        {
            return new ProviderError(null, Message: TextOf(error));
        }

        return Read(error, StringOf(error, "message") ?? StringOf(error, "msg") ?? StringOf(error, "detail"));
    }

    /// <summary>Reads the type, code and status of an error object whose text is <paramref name="message"/>.</summary>
    private static ProviderError Read(JsonElement error, string? message, string typeName = "type")
    {
        string? type = StringOf(error, typeName) ?? StringOf(error, "type");
        string? code = StringOf(error, "code");
        int? status = null;
        foreach (var name in (ReadOnlySpan<string>)["code", "status"])
        {
            if (error.TryGetProperty(name, out var value) &&
                ((value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number)) ||
                 (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number))) &&
                number is >= 400 and <= 599)
            {
                status = number;
                break;
            }
        }

        if (code is null && error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Object)
        {
            code = StringOf(details, "error_code"); // Anthropic's stable cause
        }

        return new ProviderError(status ?? ProviderErrorRules.StatusOf(type, code), type, code, message);
    }

    private static bool IsPresent(JsonElement element, string name, out JsonElement value) =>
        element.TryGetProperty(name, out value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    /// <summary>A value as text: a string as it is, anything else (a list of validation errors) as its JSON.</summary>
    private static string TextOf(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
