using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using Polly.Timeout;

namespace InferenceRouter;

/// <summary>Decides what an attempt's failure is (<see cref="FailureKind"/>: fail over or surface, the route's fault or the request's) and reads Retry-After.</summary>
/// <remarks>
/// One table for every provider (<see cref="ClassifyProviderError"/>; docs/routing.md has it): 401, 402, 403, 404 and their codes
/// (<c>authentication_error</c>, <c>invalid_api_key</c>, <c>model_not_found</c>, <c>insufficient_quota</c>…) are the route's
/// misconfiguration; a context-length refusal (<c>context_length_exceeded</c>, "prompt is too long", "exceeds the context length"…) and a
/// content filter (<c>content_filter</c>) are neither the route's fault nor plain request errors; 429, 529 and <c>rate_limit_exceeded</c>,
/// <c>rate_limit_error</c>, <c>overloaded_error</c> are rate limits; 408 and 5xx, no response at all (connection refused, reset, dropped),
/// timeouts, a response that is not an answer (<see cref="InvalidResponseException"/>) and a body the provider's SDK could not read are
/// transient; any other 4xx or <c>invalid_request_error</c> is the request's fault. A provider SDK's own exceptions are turned into these
/// terms by the <see cref="IProviderFailureClassifier"/> its route's client exposes, which the provider packages give their clients.
/// Derive and override <see cref="Classify(Exception)"/> for generic conventions, or <see cref="Classify(Exception, IProviderFailureClassifier)"/>
/// to change a provider's rules too. Thread-safe.
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

    /// <summary>
    /// Classifies a route's failure: the route's provider rules (<paramref name="provider"/>) first, over the exception and its inner
    /// exceptions, then <see cref="Classify(Exception)"/>. The router calls this overload.
    /// </summary>
    /// <param name="exception">The attempt's exception; never the caller's own cancellation (the router handles that first).</param>
    /// <param name="provider">The failure rules the route's client exposes; null when it exposes none.</param>
    /// <returns>The classification.</returns>
    public virtual FailureClassification Classify(Exception exception, IProviderFailureClassifier? provider)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (provider is not null)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                if (provider.TryClassify(e, _clock, out var classification))
                {
                    return classification;
                }
            }
        }

        return Classify(exception);
    }

    /// <summary>Classifies <paramref name="exception"/> by the generic rules, looking through inner exceptions.</summary>
    /// <param name="exception">The attempt's exception; never the caller's own cancellation (the router handles that first).</param>
    /// <returns>The classification.</returns>
    public virtual FailureClassification Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException { StatusCode: { } status }:
                    return ClassifyProviderError(new ProviderError((int)status));
                case RouteUnavailableException unavailable:
                    return new(true, RetryAfter: unavailable.RetryAfter) { Kind = FailureKind.Transient };
                case InvalidResponseException invalid:
                    return ClassifyProviderError(new ProviderError(invalid.StatusCode, invalid.ErrorType, invalid.ErrorCode, invalid.ProviderMessage), invalid.RetryAfter);
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError }:
                case SocketException:
                    return new(true, IsConnectionFailure: true) { Kind = FailureKind.Transient };
                case HttpRequestException:
                case TimeoutException:
                case TimeoutRejectedException:
                case IOException:
                case JsonException:
                    return new(true) { Kind = FailureKind.Transient };
            }
        }

        return IsUnreadableResponse(exception) ? new(true) { Kind = FailureKind.Transient } : new(false);
    }

    /// <summary>
    /// Classifies an error as a provider reported it, by the rules every route goes by whatever its provider: status, then the error's type
    /// and code, then the provider's wording (docs/routing.md, "How failures are classified"). Provider packages call this from their
    /// <see cref="IProviderFailureClassifier"/>, so an Anthropic <c>rate_limit_error</c> event, an OpenAI <c>rate_limit_exceeded</c> event and
    /// an HTTP 429 from Ollama are all the same failure.
    /// </summary>
    /// <param name="error">What the provider said.</param>
    /// <param name="retryAfter">How long it asked callers to wait, if it said (a header the SDK exposes, or <see cref="ProviderRetryAfter"/>).</param>
    /// <returns>The classification, with its <see cref="FailureClassification.Kind"/> set and the status the error names.</returns>
    public static FailureClassification ClassifyProviderError(ProviderError error, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        return ProviderErrorRules.Classify(error, retryAfter);
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
    /// <returns><see langword="true"/> for 408, 429, 500, 502, 503, 504 and 529 (overloaded).</returns>
    public static bool IsTransientStatus(int status) => status is 408 or 429 or 500 or 502 or 503 or 504 or 529;
}
