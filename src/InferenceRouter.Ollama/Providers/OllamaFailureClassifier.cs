using OllamaSharp.Models.Exceptions;

namespace InferenceRouter;

/// <summary>The OllamaSharp failure rules: an error event inside a stream (<c>{"error": …}</c>, <see cref="ResponseError"/>) is transient. Thread-safe.</summary>
internal sealed class OllamaFailureClassifier : IProviderFailureClassifier
{
    public static OllamaFailureClassifier Instance { get; } = new();

    public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
    {
        classification = exception is ResponseError ? new(true) : default;
        return exception is ResponseError;
    }
}
