using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>An immutable, serialisable snapshot of a text answer: what a cache hit replays.</summary>
/// <param name="Messages">The answer's messages as (role, text).</param>
/// <param name="ModelId">The model that answered.</param>
/// <param name="FinishReason">Why it stopped.</param>
/// <param name="InputTokens">Input tokens the original call used.</param>
/// <param name="OutputTokens">Output tokens the original call used.</param>
public sealed record CachedChatResponse(IReadOnlyList<CachedMessage> Messages, string? ModelId, string? FinishReason, long? InputTokens, long? OutputTokens)
{
    /// <summary>Gets the answer's text.</summary>
    public string Text => string.Concat(Messages.Select(m => m.Text));

    /// <summary>
    /// Takes a snapshot of <paramref name="response"/> if it is a complete text answer: finished with <see cref="ChatFinishReason.Stop"/>
    /// (or <see cref="ChatFinishReason.Length"/> when <paramref name="storeTruncated"/>), text only (well-formed UTF-16), no tool calls, no errors.
    /// </summary>
    /// <remarks>
    /// No finish reason means the answer may be partial (a stream cut off mid-answer ends without one, and the SDKs do not throw), so it
    /// is never stored: a provider that sends none (older Ollama servers) is simply not cached.
    /// </remarks>
    /// <param name="response">The response.</param>
    /// <param name="storeTruncated">Whether answers cut by the output limit may be stored.</param>
    /// <returns>The snapshot, or null when the response must not be cached.</returns>
    public static CachedChatResponse? From(ChatResponse response, bool storeTruncated = false)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!(response.FinishReason == ChatFinishReason.Stop || (response.FinishReason == ChatFinishReason.Length && storeTruncated)))
        {
            return null;
        }

        var messages = new List<CachedMessage>(response.Messages.Count);
        foreach (var message in response.Messages)
        {
            foreach (var content in message.Contents)
            {
                // Only plain text is replayable; tool calls, errors (ErrorContent: a provider's in-band error), images and the like are not stored.
                if (content is not (TextContent or UsageContent))
                {
                    return null;
                }
            }

            if (!Utf16Text.IsWellFormed(message.Text))
            {
                return null; // a lone surrogate would come back from a shared store (UTF-8 JSON) as U+FFFD: not the answer as given
            }

            if (message.Text.Length > 0)
            {
                messages.Add(new CachedMessage(message.Role.Value, message.Text));
            }
        }

        return messages.Count == 0 ? null : new CachedChatResponse(messages, response.ModelId, response.FinishReason?.Value, response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount);
    }

    /// <summary>Builds a fresh response (callers may change it freely).</summary>
    /// <returns>The response.</returns>
    public ChatResponse ToChatResponse() => new([.. Messages.Select(m => new ChatMessage(new ChatRole(m.Role), m.Text))])
    {
        ModelId = ModelId,
        FinishReason = FinishReason is null ? null : new ChatFinishReason(FinishReason),
        Usage = Usage(),
    };

    internal UsageDetails? Usage() => InputTokens is null && OutputTokens is null ? null : new UsageDetails
    {
        InputTokenCount = InputTokens,
        OutputTokenCount = OutputTokens,
        TotalTokenCount = (InputTokens ?? 0) + (OutputTokens ?? 0),
    };
}
