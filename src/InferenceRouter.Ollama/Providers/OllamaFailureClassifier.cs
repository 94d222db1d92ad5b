using OllamaSharp.Models.Exceptions;

namespace InferenceRouter;

/// <summary>
/// The OllamaSharp failure rules, in the terms every provider shares (<see cref="FailureClassifier.ClassifyProviderError"/>): OllamaSharp
/// turns a 400 into an <see cref="OllamaException"/> carrying Ollama's message ("the input length exceeds the context length", "… does not
/// support tools"), any other error status into an <see cref="HttpRequestException"/> with the status, and an <c>{"error": …}</c> line inside
/// a stream into a <see cref="ResponseError"/>. Its exceptions carry no response headers, so Retry-After comes from the route's
/// <see cref="ProviderRetryAfter"/>, when it has one. Thread-safe.
/// </summary>
internal sealed class OllamaFailureClassifier(ProviderRetryAfter? retryAfter) : IProviderFailureClassifier
{
    public static OllamaFailureClassifier Instance { get; } = new(null);

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
}
