using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// A provider answered (often with HTTP 200) but not with an answer: an error event inside a stream, a stream that ended before any
/// content, finish reason or usage, or a body with no content and no usage. The router classifies it by the error it carries, as any
/// provider error (<see cref="FailureClassifier.ClassifyProviderError"/>): most fail over and count against the route's health; one
/// naming the request as wrong (<c>invalid_request_error</c>) surfaces.
/// </summary>
public sealed class InvalidResponseException : Exception
{
    /// <summary>The longest provider error text kept in the message (scrubbed: providers may echo request content and keys there).</summary>
    public const int MaxProviderMessageLength = ErrorText.MaxLength;

    /// <summary>Creates the exception.</summary>
    /// <param name="route">The route that answered.</param>
    /// <param name="problem">What was wrong, e.g. "the stream ended before any content".</param>
    /// <param name="providerMessage">
    /// The provider's own error text, if it sent one; the message keeps it scrubbed (<see cref="MaxProviderMessageLength"/> characters at
    /// most, without quoted text or credentials: servers echo what they were sent).
    /// </param>
    /// <param name="statusCode">The HTTP-like status the provider's error names, if any.</param>
    /// <param name="retryAfter">How long the provider asked callers to wait, if it said.</param>
    public InvalidResponseException(string route, string problem, string? providerMessage = null, int? statusCode = null, TimeSpan? retryAfter = null)
        : this(route, problem, providerMessage is null && statusCode is null ? null : new ProviderError(statusCode, Message: providerMessage), retryAfter)
    {
    }

    /// <summary>Creates the exception for the error a provider put where an answer should be.</summary>
    /// <param name="route">The route that answered.</param>
    /// <param name="problem">What was wrong, e.g. "its stream carried an error event".</param>
    /// <param name="error">The provider's error (status, type, code, text), if it sent one; its text is scrubbed in the message.</param>
    /// <param name="retryAfter">How long the provider asked callers to wait, if it said.</param>
    public InvalidResponseException(string route, string problem, ProviderError? error, TimeSpan? retryAfter = null)
        : this(route, problem, error, retryAfter, callTexts: null)
    {
    }

    /// <summary>Creates the exception the router raises for a call: the message also leaves out what the error repeats of the call's messages.</summary>
    internal InvalidResponseException(string route, string problem, ProviderError? error, TimeSpan? retryAfter, IEnumerable<string>? callTexts)
        : base($"Route '{route}' did not answer: {problem}{(error?.Message is { } text ? $" (provider error: \"{(callTexts is null ? ErrorText.Scrub(text) : ErrorText.Scrub(text, callTexts))}\")" : string.Empty)}.")
    {
        Route = route;
        StatusCode = error?.StatusCode;
        ErrorType = error?.Type;
        ErrorCode = error?.Code;
        ProviderMessage = error?.Message;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the route that answered.</summary>
    public string Route { get; }

    /// <summary>Gets the status the provider's error names (e.g. 503, 429, 400), if any.</summary>
    public int? StatusCode { get; }

    /// <summary>Gets the type the provider's error names (e.g. <c>invalid_request_error</c>, <c>overloaded_error</c>), if any.</summary>
    public string? ErrorType { get; }

    /// <summary>Gets the code the provider's error names (e.g. <c>rate_limit_exceeded</c>, <c>context_length_exceeded</c>, <c>content_filter</c>), if any.</summary>
    public string? ErrorCode { get; }

    /// <summary>
    /// Gets the provider's own error text as it sent it, if any. It may echo the request's content or its key: the router reads it to
    /// classify the failure and never logs it; the message keeps it scrubbed. Do not log it either.
    /// </summary>
    public string? ProviderMessage { get; }

    /// <summary>Gets how long the provider asked callers to wait, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
