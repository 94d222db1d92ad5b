using Anthropic.Exceptions;

namespace InferenceRouter;

/// <summary>
/// The Anthropic SDK's failure rules: an <see cref="AnthropicApiException"/>'s status; an error event inside a stream (e.g.
/// <c>overloaded_error</c>, <see cref="AnthropicSseException"/>) or a body the SDK could not read is transient. Thread-safe.
/// </summary>
internal sealed class AnthropicFailureClassifier : IProviderFailureClassifier
{
    public static AnthropicFailureClassifier Instance { get; } = new();

    public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
    {
        switch (exception)
        {
            case AnthropicApiException api:
                classification = new(FailureClassifier.IsTransientStatus((int)api.StatusCode), (int)api.StatusCode);
                return true;
            case AnthropicSseException or AnthropicInvalidDataException:
                classification = new(true);
                return true;
            default:
                classification = default;
                return false;
        }
    }
}
