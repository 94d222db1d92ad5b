using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>A stream that has delivered its first update (or ended at once): the unit a streaming attempt succeeds with.</summary>
internal sealed class StreamStart(IAsyncEnumerator<ChatResponseUpdate> enumerator, ChatResponseUpdate? first)
{
    public IAsyncEnumerator<ChatResponseUpdate> Enumerator { get; } = enumerator;

    public ChatResponseUpdate? First { get; } = first;

    public static async ValueTask<StreamStart> OpenAsync(IChatClient client, IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        var enumerator = client.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            return await enumerator.MoveNextAsync().ConfigureAwait(false)
                ? new StreamStart(enumerator, enumerator.Current)
                : new StreamStart(enumerator, null);
        }
        catch
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
