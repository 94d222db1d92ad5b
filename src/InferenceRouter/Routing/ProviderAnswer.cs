using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// What counts as an answer from a provider: content, a finish reason or usage. A 200 that carries none of them (an error body, a
/// wrong-shape body the SDK read as empty) is an <see cref="InvalidResponseException"/>, a failure to fail over from.
/// </summary>
internal static class ProviderAnswer
{
    /// <summary>
    /// Calls the route and checks its non-streaming answer (streams are checked by <see cref="StreamStart.OpenAsync"/>). The wait ends
    /// when the attempt does (<paramref name="cancellation"/>), whatever the SDK does with its token.
    /// </summary>
    public static async ValueTask<ChatResponse> GetResponseAsync(
        ChatRoute route, IEnumerable<ChatMessage> messages, ChatOptions? options, AttemptCancellation? cancellation, CancellationToken cancellationToken)
    {
        Task<ChatResponse> pending;
        try
        {
            pending = route.Client.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception e)
        {
            throw ProviderBilling.MarkNotSent(e); // thrown before it returned its pending call: nothing was sent, nothing is billed
        }

        var response = cancellation is null || pending.IsCompleted ? await pending.ConfigureAwait(false) : await cancellation.WaitAsync(pending).ConfigureAwait(false);
        if (response.Usage is not null || response.FinishReason == ChatFinishReason.ContentFilter)
        {
            return response;
        }

        foreach (var message in response.Messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is not TextContent { Text.Length: 0 })
                {
                    return response;
                }
            }
        }

        return route.TryReadErrorEvent(response.RawRepresentation, out var error)
            ? throw new InvalidResponseException(route.Name, "it answered with an error body", error, retryAfter: null, ErrorText.TextsOf(messages, options))
            : throw new InvalidResponseException(route.Name, "its answer had no content and no usage");
    }

    /// <summary>Whether a streamed update carries anything: content (not an empty text), a finish reason or usage.</summary>
    public static bool IsUseful(ChatResponseUpdate update) => update.FinishReason is not null || HasContent(update);

    /// <summary>
    /// Whether a streamed update carries content or usage (not an empty text), whatever its finish reason: an update without any may be an
    /// error event, even one an SDK adapter stamped with the finish reason it saw earlier.
    /// </summary>
    public static bool HasContent(ChatResponseUpdate update)
    {
        var contents = update.Contents;
        for (int i = 0; i < contents.Count; i++)
        {
            if (contents[i] is not TextContent { Text.Length: 0 })
            {
                return true;
            }
        }

        return false;
    }
}
