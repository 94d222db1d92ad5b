using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// A stream that has delivered its first useful update (content, a finish reason or usage): the unit a streaming attempt succeeds with.
/// Updates before it that carried nothing (a role, ids) are kept in <see cref="Prelude"/> and replayed first.
/// </summary>
internal sealed class StreamStart(IAsyncEnumerator<ChatResponseUpdate> enumerator, List<ChatResponseUpdate>? prelude, ChatResponseUpdate first)
{
    public IAsyncEnumerator<ChatResponseUpdate> Enumerator { get; } = enumerator;

    /// <summary>Gets updates that came before <see cref="First"/> and carried nothing useful; null when none.</summary>
    public List<ChatResponseUpdate>? Prelude { get; } = prelude;

    public ChatResponseUpdate First { get; } = first;

    private StreamJudgement? _judgement;

    /// <summary>Attaches the circuit breaker's pending judgement of the stream (none when circuit breaking is off); end it when the stream ends.</summary>
    public void AttachJudgement(StreamJudgement judgement) => _judgement = judgement;

    /// <summary>Ends the breaker's judgement of the stream, once (<see cref="StreamJudgement.End"/>); nothing when there is none.</summary>
    public void EndJudgement(Exception? error) => Interlocked.Exchange(ref _judgement, null)?.End(error);

    /// <summary>
    /// Opens the route's stream and reads until its first useful update. A stream that ends before one, or whose update is an error event
    /// (<c>data: {"error": …}</c> inside a 200 stream), is an <see cref="InvalidResponseException"/>: a failure to fail over from, not a
    /// success with an empty answer. Every wait on the provider ends when the attempt does (<paramref name="cancellation"/>), whatever the
    /// SDK does with its token; the first useful update is handed over only if the attempt has not ended first.
    /// </summary>
    public static async ValueTask<StreamStart> OpenAsync(
        ChatRoute route, IEnumerable<ChatMessage> messages, ChatOptions? options, AttemptCancellation? cancellation, CancellationToken cancellationToken)
    {
        IAsyncEnumerator<ChatResponseUpdate> enumerator;
        try
        {
            enumerator = route.Client.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception e)
        {
            throw ProviderBilling.MarkNotSent(e); // thrown before it returned its stream: nothing was sent, nothing is billed
        }

        try
        {
            List<ChatResponseUpdate>? prelude = null;
            while (true)
            {
                var next = enumerator.MoveNextAsync();
                if (!(cancellation is null || next.IsCompleted ? await next.ConfigureAwait(false) : await cancellation.WaitAsync(next, enumerator, providerTime: false).ConfigureAwait(false)))
                {
                    break;
                }

                var update = enumerator.Current;

                // Asked of every update without content, whatever its finish reason (an SDK adapter may stamp one on an error event).
                if (!ProviderAnswer.HasContent(update) && route.TryReadErrorEvent(update.RawRepresentation, out var error))
                {
                    throw new InvalidResponseException(route.Name, "its stream carried an error event", error, retryAfter: null, ErrorText.TextsOf(messages, options));
                }

                if (ProviderAnswer.IsUseful(update))
                {
                    if (cancellation?.TryHandOver() == false)
                    {
                        throw new OperationCanceledException(cancellation.Token); // the attempt ended (e.g. its first-token time ran out) before the update came
                    }

                    return new StreamStart(enumerator, prelude, update);
                }

                (prelude ??= []).Add(update);
            }

            // A quiet end after the attempt ended (some SDKs stop reading when their token is cancelled) is that end, not an empty answer.
            cancellation?.ThrowIfEnded();
            throw new InvalidResponseException(route.Name, "its stream ended before any content, finish reason or usage");
        }
        catch
        {
            await (cancellation?.DisposeWhenIdleAsync(enumerator) ?? enumerator.DisposeAsync()).ConfigureAwait(false);
            throw;
        }
    }
}
