using System.ClientModel;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using Anthropic.Exceptions;
using OllamaSharp.Models.Exceptions;
using Polly.Timeout;

namespace InferenceRouter;

/// <summary>Decides whether an attempt's failure is transient (fail over) or not (surface it), and reads Retry-After.</summary>
/// <remarks>
/// Transient: HTTP 408, 429, 500, 502, 503, 504; no response at all (connection refused, reset, dropped); timeouts; a response that is
/// not an answer (<see cref="InvalidResponseException"/>: an error event in a 200 stream, an empty stream, an error or empty body) unless
/// its error names a non-transient status; a body the provider's SDK could not read (malformed or wrong-shape JSON). Not transient:
/// other 4xx (bad request, auth, not found, content filter). Retry-After values are clamped to <see cref="RouterOptions.MaxTimeout"/>
/// (a server's <c>Infinity</c> or <c>1e20</c> never overflows). Derive and override <see cref="Classify"/> for providers with other
/// conventions. Thread-safe.
/// </remarks>
public class FailureClassifier
{
    /// <summary>Gets the default classifier.</summary>
    public static FailureClassifier Default { get; } = new();

    // Namespaces whose code reads a provider's response: an exception thrown from there means the body was not what the SDK expected.
    private static readonly string[] s_responseReaders = ["OpenAI", "Azure.AI", "System.ClientModel", "System.Text.Json", "Microsoft.Extensions.AI", "Anthropic", "OllamaSharp"];

    // The clock HTTP-date Retry-After values are measured against (the router gives the default classifier its own).
    private readonly TimeProvider _clock;

    /// <summary>Creates a classifier.</summary>
    public FailureClassifier()
        : this(TimeProvider.System)
    {
    }

    internal FailureClassifier(TimeProvider clock) => _clock = clock;

    /// <summary>Classifies <paramref name="exception"/>, looking through inner exceptions.</summary>
    /// <param name="exception">The attempt's exception; never the caller's own cancellation (the router handles that first).</param>
    /// <returns>The classification.</returns>
    public virtual FailureClassification Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ClientResultException result when result.Status != 0:
                    return new(IsTransientStatus(result.Status), result.Status, ReadRetryAfter(result));
                case HttpRequestException { StatusCode: { } status }:
                    return new(IsTransientStatus((int)status), (int)status);
                case AnthropicApiException api:
                    return new(IsTransientStatus((int)api.StatusCode), (int)api.StatusCode);
                case AnthropicSseException or AnthropicInvalidDataException or ResponseError:
                    // An error event inside a stream (Anthropic's overloaded_error, Ollama's {"error": …}) or a body the SDK could not read.
                    return new(true);
                case RouteUnavailableException unavailable:
                    return new(true, RetryAfter: unavailable.RetryAfter);
                case InvalidResponseException invalid:
                    return new(invalid.StatusCode is not { } code || IsTransientStatus(code), invalid.StatusCode, invalid.RetryAfter);
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError }:
                case SocketException:
                    return new(true, IsConnectionFailure: true);
                case HttpRequestException:
                case TimeoutException:
                case TimeoutRejectedException:
                case IOException:
                case JsonException:
                    return new(true);
            }
        }

        // A ClientResultException without a status means no response arrived: a connection failure.
        if (exception is ClientResultException)
        {
            return new(true, IsConnectionFailure: true);
        }

        return IsUnreadableResponse(exception) ? new(true) : new(false);
    }

    /// <summary>
    /// Whether the SDK failed to read the response (a wrong-shape body: <c>"just a string"</c>, no <c>choices</c>, <c>choices: "nope"</c>):
    /// an index, type or key error thrown from code that reads responses.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <returns><see langword="true"/> when it comes from reading the provider's response.</returns>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "A frame whose method metadata was trimmed is skipped: the failure then counts as not transient, as any unknown one does.")]
    protected static bool IsUnreadableResponse(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is not (ArgumentOutOfRangeException or IndexOutOfRangeException or KeyNotFoundException or InvalidOperationException or InvalidCastException or FormatException or NullReferenceException))
        {
            return false;
        }

        foreach (var frame in new System.Diagnostics.StackTrace(exception, fNeedFileInfo: false).GetFrames())
        {
            if (frame.GetMethod()?.DeclaringType?.Namespace is { } ns)
            {
                foreach (var reader in s_responseReaders)
                {
                    if (ns.StartsWith(reader, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>Returns whether an HTTP status is worth failing over for.</summary>
    /// <param name="status">The status code.</param>
    /// <returns><see langword="true"/> for 408, 429, 500, 502, 503 and 504.</returns>
    protected static bool IsTransientStatus(int status) => status is 408 or 429 or 500 or 502 or 503 or 504 or 529;

    /// <summary>Reads <c>retry-after-ms</c> or <c>Retry-After</c> (seconds or an HTTP date) from a failed response.</summary>
    /// <param name="exception">The SDK's exception.</param>
    /// <returns>The delay, or <see langword="null"/> when the response names none.</returns>
    protected TimeSpan? ReadRetryAfter(ClientResultException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
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
                var delay = date - _clock.GetUtcNow();
                return delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > RouterOptions.MaxTimeout ? RouterOptions.MaxTimeout : delay;
            }
        }

        return null;
    }

    /// <summary>A wait in milliseconds, clamped: infinite, huge or NaN values from a server never overflow a <see cref="TimeSpan"/>.</summary>
    private static TimeSpan Clamp(double milliseconds) =>
        double.IsNaN(milliseconds) || milliseconds >= RouterOptions.MaxTimeout.TotalMilliseconds ? RouterOptions.MaxTimeout : TimeSpan.FromMilliseconds(milliseconds);
}
