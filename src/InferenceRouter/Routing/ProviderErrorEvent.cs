using System.Diagnostics.CodeAnalysis;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// Reads the error an OpenAI-style server put where an answer should be (<c>{"error": {"message", "type", "code"}}</c>, as an SSE event
/// inside a 200 stream or as the body): from the SDK's raw representation of the update or response, which keeps unknown properties.
/// </summary>
internal static class ProviderErrorEvent
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The raw representation is an SDK model that exists; if trimming removed what writing it needs, the write throws, is caught, and no error is read.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As above: a failure to write the model means no error is read, never a wrong one.")]
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
                BinaryData data => JsonDocument.Parse(data),
                string text => JsonDocument.Parse(text),
                _ => JsonDocument.Parse(ModelReaderWriter.Write(raw)),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
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
