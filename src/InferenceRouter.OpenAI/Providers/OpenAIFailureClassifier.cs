using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// The OpenAI SDK's failure rules: a <see cref="ClientResultException"/>'s status, its error body's type, code and message (classified by
/// the rules every provider shares, <see cref="FailureClassifier.ClassifyProviderError"/>) and its Retry-After (<see cref="ProviderRetryAfter.Read"/>:
/// <c>retry-after-ms</c>, seconds or an HTTP date, <c>x-ratelimit-reset-*</c>); one without a status is a connection failure unless its
/// inner exception says more. Error events are read from the SDK's models written as JSON (the SDK passes a
/// <c>data: {"error": …}</c> event on as an update with no choices, before or after the first token). A complete stream carries a
/// <c>finish_reason</c>: one that ends without it (the connection closed early, with or without <c>[DONE]</c>) was cut off. Thread-safe.
/// </summary>
internal sealed class OpenAIFailureClassifier : IProviderFailureClassifier
{
    public static OpenAIFailureClassifier Instance { get; } = new();

    public bool ReportsStreamEnd => true;

    public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
    {
        switch (exception)
        {
            case ClientResultException result when result.Status != 0:
                var response = result.GetRawResponse();
                var error = ReadErrorBody(response, result.Status);
                var headers = response?.Headers;
                var retryAfter = headers is null ? null : ProviderRetryAfter.Read(name => headers.TryGetValue(name, out var value) ? value : null, clock.GetUtcNow());
                classification = FailureClassifier.ClassifyProviderError(error, retryAfter);
                return true;
            case ClientResultException result when !ExplainsItself(result.InnerException):
                // No response arrived, and the inner exception (if any) says nothing more: a connection failure.
                classification = new(true, IsConnectionFailure: true);
                return true;
            default:
                classification = default;
                return false;
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The raw representation is an SDK model that exists; if trimming removed what writing it needs, the write throws, is caught, and no error is read.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As above: a failure to write the model means no error is read, never a wrong one.")]
    public bool TryReadErrorEvent(object? rawRepresentation, [NotNullWhen(true)] out ProviderError? error)
    {
        object? json = rawRepresentation;
        try
        {
            json = rawRepresentation switch
            {
                BinaryData data => data.ToMemory(),
                null or JsonElement or string or ReadOnlyMemory<byte> or byte[] => rawRepresentation,
                _ => ModelReaderWriter.Write(rawRepresentation).ToMemory(), // an SDK model: its JSON keeps the properties the model does not know
            };
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException or JsonException)
        {
            json = null; // not a JSON model: no error to read
        }

        return ProviderErrorEvent.TryRead(json, out error);
    }

    /// <summary>The error body of a failed response (<c>{"error": {"message", "type", "code"}}</c>), with the response's status; the status alone when the body says nothing.</summary>
    private static ProviderError ReadErrorBody(PipelineResponse? response, int status)
    {
        try
        {
            if (response?.Content is { } content && ProviderErrorEvent.TryRead(content.ToMemory(), out var error))
            {
                return error with { StatusCode = status };
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // The body was streamed and is gone: the status still says most.
        }

        return new ProviderError(status);
    }

    /// <summary>Whether the router's generic rules can say what went wrong from <paramref name="inner"/> (a refused connection, a timeout).</summary>
    private static bool ExplainsItself(Exception? inner) =>
        inner is not null && FailureClassifier.Default.Classify(inner) is var known && (known.IsTransient || known.StatusCode is not null);
}
