using System.ClientModel;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using Polly.Timeout;

namespace InferenceRouter;

/// <summary>Decides whether an attempt's failure is transient (fail over) or not (surface it), and reads Retry-After.</summary>
/// <remarks>
/// Transient: HTTP 408, 429, 500, 502, 503, 504; no response at all (connection refused, reset, dropped); timeouts; a malformed
/// response body. Not transient: other 4xx (bad request, auth, not found, content filter). Derive and override <see cref="Classify"/>
/// for providers with other conventions. Thread-safe.
/// </remarks>
public class FailureClassifier
{
    /// <summary>Gets the default classifier.</summary>
    public static FailureClassifier Default { get; } = new();

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
                case RouteUnavailableException unavailable:
                    return new(true, RetryAfter: unavailable.RetryAfter);
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
        return exception is ClientResultException ? new(true, IsConnectionFailure: true) : new(false);
    }

    /// <summary>Returns whether an HTTP status is worth failing over for.</summary>
    /// <param name="status">The status code.</param>
    /// <returns><see langword="true"/> for 408, 429, 500, 502, 503 and 504.</returns>
    protected static bool IsTransientStatus(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>Reads <c>retry-after-ms</c> or <c>Retry-After</c> (seconds or an HTTP date) from a failed response.</summary>
    /// <param name="exception">The SDK's exception.</param>
    /// <returns>The delay, or <see langword="null"/> when the response names none.</returns>
    protected static TimeSpan? ReadRetryAfter(ClientResultException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var headers = exception.GetRawResponse()?.Headers;
        if (headers is null)
        {
            return null;
        }

        if (headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        if (headers.TryGetValue("Retry-After", out var value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                var delay = date - DateTimeOffset.UtcNow;
                return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
            }
        }

        return null;
    }
}
