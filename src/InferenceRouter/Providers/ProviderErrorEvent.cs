using System.Globalization;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// Reads the error an OpenAI-style server put where an answer should be (<c>{"error": {"message", "type", "code"}}</c>, as an SSE event
/// inside a 200 stream or as the body) from JSON: a response's or update's raw representation when it is JSON, or an SDK model a
/// provider package wrote as JSON (<see cref="IProviderFailureClassifier.TryReadErrorEvent"/>).
/// </summary>
/// <remarks>Thread-safe; never throws for input that is not JSON.</remarks>
public static class ProviderErrorEvent
{
    /// <summary>Reads the error in <paramref name="raw"/>, when it is JSON (a <see cref="JsonElement"/>, UTF-8 bytes or a string) with an <c>error</c> property.</summary>
    /// <param name="raw">The raw representation; anything else is no error.</param>
    /// <param name="message">The error's text (<c>error</c> as a string, or <c>error.message</c>), if any.</param>
    /// <param name="status">The status its <c>code</c>, <c>status</c> or <c>type</c> names (400-599), if any.</param>
    /// <returns><see langword="true"/> when <paramref name="raw"/> is an error.</returns>
    public static bool TryRead(object? raw, out string? message, out int? status)
    {
        message = null;
        status = null;
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
                !document.RootElement.TryGetProperty("error", out var error) || error.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                return false;
            }

            message = error.ValueKind == JsonValueKind.String ? error.GetString()
                : error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()
                : null;
            status = StatusOf(error);
            return true;
        }
    }

    private static int? StatusOf(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var name in (ReadOnlySpan<string>)["code", "status"])
        {
            if (error.TryGetProperty(name, out var code) &&
                ((code.ValueKind == JsonValueKind.Number && code.TryGetInt32(out int number)) ||
                 (code.ValueKind == JsonValueKind.String && int.TryParse(code.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number))) &&
                number is >= 400 and <= 599)
            {
                return number;
            }
        }

        string? type = error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        return type switch
        {
            "rate_limit_exceeded" or "rate_limit_error" => 429,
            "overloaded_error" or "overloaded" => 503,
            "server_error" or "api_error" => 500,
            "invalid_request_error" => 400,
            "authentication_error" => 401,
            "permission_error" => 403,
            "not_found_error" => 404,
            _ => null,
        };
    }
}
