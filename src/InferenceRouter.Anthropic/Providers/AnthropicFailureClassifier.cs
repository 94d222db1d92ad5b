using Anthropic.Exceptions;

namespace InferenceRouter;

/// <summary>
/// The Anthropic SDK's failure rules: an <see cref="AnthropicApiException"/>'s status, error type (<c>authentication_error</c>,
/// <c>rate_limit_error</c>, <c>overloaded_error</c>, <c>invalid_request_error</c>…), code and message, and an error event inside a stream
/// (<see cref="AnthropicSseException"/>) by its type, all classified by the rules every provider shares
/// (<see cref="FailureClassifier.ClassifyProviderError"/>); a body the SDK could not read is transient. The SDK's exceptions carry no
/// response headers, so Retry-After comes from the route's <see cref="ProviderRetryAfter"/>, when it has one. An error event
/// arrives as that exception before or after the first token. A complete stream carries a stop reason (<c>message_delta</c>'s
/// <c>stop_reason</c>, before <c>message_stop</c>): one that ends without it was cut off. Thread-safe.
/// </summary>
internal sealed class AnthropicFailureClassifier(ProviderRetryAfter? retryAfter) : IProviderFailureClassifier
{
    public static AnthropicFailureClassifier Instance { get; } = new(null);

    public bool ReportsStreamEnd => true;

    public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
    {
        switch (exception)
        {
            case AnthropicApiException api:
                int status = (int)api.StatusCode;
                TimeSpan? wait = retryAfter is not null && retryAfter.TryGetRetryAfter(status, clock, out var asked) ? asked : null;
                classification = FailureClassifier.ClassifyProviderError(new ProviderError(status, TypeOf(api), api.ErrorCode, api.ApiMessage), wait);
                return true;
            case AnthropicSseException sse:
                classification = FailureClassifier.ClassifyProviderError(new ProviderError(null, TypeOf(sse), sse.ErrorCode, sse.ApiMessage));
                return true;
            case AnthropicInvalidDataException:
                classification = new(true) { Kind = FailureKind.Transient };
                return true;
            default:
                classification = default;
                return false;
        }
    }

    private static string? TypeOf(AnthropicServiceException error)
    {
        try
        {
            return error.Type?.Raw();
        }
        catch (Exception e) when (e is InvalidOperationException or AnthropicInvalidDataException)
        {
            return null; // an error envelope the SDK could not read: the status and the message still speak
        }
    }
}
