namespace InferenceRouter;

/// <summary>
/// A provider answered (often with HTTP 200) but not with an answer: an error event inside a stream, a stream that ended before any
/// content, finish reason or usage, or a body with no content and no usage. The router treats it as the failure it is: it fails over
/// (unless <see cref="StatusCode"/> says the request itself was wrong) and counts it against the route's health.
/// </summary>
public sealed class InvalidResponseException : Exception
{
    /// <summary>The longest provider error text kept in the message (providers may echo request content there).</summary>
    public const int MaxProviderMessageLength = 200;

    /// <summary>Creates the exception.</summary>
    /// <param name="route">The route that answered.</param>
    /// <param name="problem">What was wrong, e.g. "the stream ended before any content".</param>
    /// <param name="providerMessage">The provider's own error text, if it sent one (shortened to <see cref="MaxProviderMessageLength"/>).</param>
    /// <param name="statusCode">The HTTP-like status the provider's error names, if any.</param>
    /// <param name="retryAfter">How long the provider asked callers to wait, if it said.</param>
    public InvalidResponseException(string route, string problem, string? providerMessage = null, int? statusCode = null, TimeSpan? retryAfter = null)
        : base($"Route '{route}' did not answer: {problem}{(providerMessage is null ? string.Empty : $" (provider error: \"{Shorten(providerMessage)}\")")}.")
    {
        Route = route;
        StatusCode = statusCode;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the route that answered.</summary>
    public string Route { get; }

    /// <summary>Gets the status the provider's error names (e.g. 503, 429, 400), if any.</summary>
    public int? StatusCode { get; }

    /// <summary>Gets how long the provider asked callers to wait, if it said.</summary>
    public TimeSpan? RetryAfter { get; }

    private static string Shorten(string text) => text.Length <= MaxProviderMessageLength ? text : string.Concat(text.AsSpan(0, MaxProviderMessageLength), "…");
}
