using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using OllamaSharp.Models.Chat;
using OllamaSharp.Models.Exceptions;

namespace InferenceRouter;

/// <summary>
/// The OllamaSharp failure rules, in the terms every provider shares (<see cref="FailureClassifier.ClassifyProviderError"/>): OllamaSharp
/// turns a 400 into an <see cref="OllamaException"/> carrying Ollama's message ("the input length exceeds the context length", "… does not
/// support tools"), any other error status into an <see cref="HttpRequestException"/> with the status, and an <c>{"error": …}</c> line inside
/// its other streams into a <see cref="ResponseError"/> (see the remarks for chat streams). Its exceptions carry no response headers, so Retry-After comes from the route's
/// <see cref="ProviderRetryAfter"/>, when it has one. A complete stream ends with a <c>done: true</c> line; one that ends without it was
/// cut off. Thread-safe.
/// </summary>
/// <remarks>
/// OllamaSharp's chat stream does not throw on an <c>{"error": …}</c> line: it reads it as a chunk with neither <c>message</c> nor
/// <c>done</c> and passes it on as an empty update (the error's text is lost). Every real chunk has a <c>message</c> or is the last one,
/// so such an update is the error event, before or after the first token.
/// </remarks>
internal sealed class OllamaFailureClassifier(ProviderRetryAfter? retryAfter) : IProviderFailureClassifier
{
    public static OllamaFailureClassifier Instance { get; } = new(null);

    public bool ReportsStreamEnd => true;

    public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
    {
        switch (exception)
        {
            case ResponseError stream:
                classification = FailureClassifier.ClassifyProviderError(new ProviderError(null, Message: stream.Message));
                return true;
            case OllamaException refused:
                classification = FailureClassifier.ClassifyProviderError(new ProviderError(400, Message: refused.Message));
                return true;
            case HttpRequestException { StatusCode: { } code }:
                int status = (int)code;
                TimeSpan? wait = retryAfter is not null && retryAfter.TryGetRetryAfter(status, clock, out var asked) ? asked : null;
                classification = FailureClassifier.ClassifyProviderError(new ProviderError(status), wait);
                return true;
            default:
                classification = default;
                return false;
        }
    }

    public bool TryReadErrorEvent(object? rawRepresentation, [NotNullWhen(true)] out ProviderError? error)
    {
        if (rawRepresentation is ChatResponseStream { Message: null, Done: false })
        {
            error = new ProviderError(null, Message: "Ollama sent a line that is not a chat chunk (an {\"error\": …} line; OllamaSharp does not keep its text)");
            return true;
        }

        return ProviderErrorEvent.TryRead(rawRepresentation, out error);
    }

    public bool IsStreamEnd(ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);

        // done: true without a done_reason (older servers) is no finish reason for OllamaSharp, but it is the end of the answer.
        return update.FinishReason is not null || update.RawRepresentation is ChatResponseStream { Done: true };
    }
}
