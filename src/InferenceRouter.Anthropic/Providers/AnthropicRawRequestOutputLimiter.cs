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
}
