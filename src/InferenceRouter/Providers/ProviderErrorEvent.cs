using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// Reads the error a server put where an answer should be (<c>{"error": {"message", "type", "code"}}</c> as OpenAI and vLLM send it, as an
/// SSE event inside a 200 stream or as the body; <c>{"type": "error", "error": {"type", "message"}}</c> as Anthropic does; <c>{"error": "…"}</c>
/// as Ollama does) from JSON: a response's or update's raw representation when it is JSON, or an SDK model a provider package wrote as
/// JSON (<see cref="IProviderFailureClassifier.TryReadErrorEvent"/>).
/// </summary>
/// <remarks>Thread-safe; never throws for input that is not JSON.</remarks>
public static class ProviderErrorEvent
{
    /// <summary>Reads the error in <paramref name="raw"/>, when it is JSON (a <see cref="JsonElement"/>, UTF-8 bytes or a string) with an <c>error</c> property.</summary>
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
            if (document is null || document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("error", out var body) || body.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                return false;
            }

            error = Read(body);
            return true;
        }
    }

    /// <summary>Reads an <c>error</c> value: a string, or an object with <c>message</c>, <c>type</c>, <c>code</c> and <c>status</c>.</summary>
    internal static ProviderError Read(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object)
        {
            return new ProviderError(null, Message: error.ValueKind == JsonValueKind.String ? error.GetString() : error.GetRawText());
        }

        string? message = StringOf(error, "message");
        string? type = StringOf(error, "type");
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

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
