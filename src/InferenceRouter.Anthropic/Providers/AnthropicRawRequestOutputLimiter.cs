using Anthropic.Models.Messages;
using BetaMessageCreateParams = Anthropic.Models.Beta.Messages.MessageCreateParams;

namespace InferenceRouter;

/// <summary>
/// Holds a raw <see cref="MessageCreateParams"/> (or its beta twin) to the call's output limit: <c>max_tokens</c>, which bounds extended
/// thinking too, is lowered to it.
/// </summary>
/// <remarks>Stateless and thread-safe. The request records are copied, never changed: the caller's factory may return a shared one.</remarks>
internal sealed class AnthropicRawRequestOutputLimiter : IRawRequestOutputLimiter
{
    public static AnthropicRawRequestOutputLimiter Instance { get; } = new();

    public object? Limit(object? rawRequest, int maxOutputTokens) => rawRequest switch
    {
        MessageCreateParams request when request.MaxTokens > maxOutputTokens => request with { MaxTokens = maxOutputTokens },
        BetaMessageCreateParams request when request.MaxTokens > maxOutputTokens => request with { MaxTokens = maxOutputTokens },
        _ => rawRequest,
    };

    /// <inheritdoc/>
    public long CountInputTokenBound(object? rawRequest) => rawRequest switch
    {
        MessageCreateParams request => BodyBytes(request.RawBodyData),
        BetaMessageCreateParams request => BodyBytes(request.RawBodyData),
        _ => 0,
    };

    /// <summary>The UTF-8 bytes of the request's JSON body, field by field (what the SDK sends).</summary>
    private static long BodyBytes(IReadOnlyDictionary<string, System.Text.Json.JsonElement> body)
    {
        long bytes = 0;
        foreach (var (name, value) in body)
        {
            bytes += System.Text.Encoding.UTF8.GetByteCount(name) + System.Text.Encoding.UTF8.GetByteCount(value.GetRawText());
        }

        return bytes;
    }
}
