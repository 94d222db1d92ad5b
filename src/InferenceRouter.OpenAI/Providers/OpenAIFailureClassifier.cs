using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// The OpenAI SDK's failure rules: a <see cref="ClientResultException"/>'s status and Retry-After (<c>retry-after-ms</c>, seconds or an
/// HTTP date, clamped to <see cref="RouterOptions.MaxTimeout"/>); one without a status is a connection failure unless its inner
/// exception says more. Error events are read from the SDK's models written as JSON. Thread-safe.
/// </summary>
internal sealed class OpenAIFailureClassifier : IProviderFailureClassifier
{
    public static OpenAIFailureClassifier Instance { get; } = new();

    public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
    {
        switch (exception)
        {
            case ClientResultException result when result.Status != 0:
                classification = new(FailureClassifier.IsTransientStatus(result.Status), result.Status, ReadRetryAfter(result, clock));
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
    public bool TryReadErrorEvent(object? rawRepresentation, out string? message, out int? statusCode)
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

        return ProviderErrorEvent.TryRead(json, out message, out statusCode);
    }

    /// <summary>Whether the router's generic rules can say what went wrong from <paramref name="inner"/> (a refused connection, a timeout).</summary>
    private static bool ExplainsItself(Exception? inner) =>
        inner is not null && FailureClassifier.Default.Classify(inner) is var known && (known.IsTransient || known.StatusCode is not null);

    /// <summary>Reads <c>retry-after-ms</c> or <c>Retry-After</c> (seconds or an HTTP date) from a failed response.</summary>
    private static TimeSpan? ReadRetryAfter(ClientResultException exception, TimeProvider clock)
    {
        var headers = exception.GetRawResponse()?.Headers;
        if (headers is null)
        {
            return null;
        }

        if (headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return Clamp(millis);
        }

        if (headers.TryGetValue("Retry-After", out var value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return Clamp(seconds * 1000);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                var delay = date - clock.GetUtcNow();
                return delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > RouterOptions.MaxTimeout ? RouterOptions.MaxTimeout : delay;
            }
        }

        return null;
    }

    /// <summary>A wait in milliseconds, clamped: infinite, huge or NaN values from a server never overflow a <see cref="TimeSpan"/>.</summary>
    private static TimeSpan Clamp(double milliseconds) =>
        double.IsNaN(milliseconds) || milliseconds >= RouterOptions.MaxTimeout.TotalMilliseconds ? RouterOptions.MaxTimeout : TimeSpan.FromMilliseconds(milliseconds);
}
