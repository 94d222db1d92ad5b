namespace InferenceRouter;

/// <summary>
/// A route cannot serve calls at all right now (a local model that failed to load, a missing execution provider): the router fails
/// over, and skips the route for <see cref="RetryAfter"/> instead of trying it on every call.
/// </summary>
public class RouteUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="retryAfter">How long the router should leave the route alone; null to leave that to the circuit breaker.</param>
    /// <param name="innerException">The underlying error.</param>
    public RouteUnavailableException(string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>Gets how long the router should skip the route.</summary>
    public TimeSpan? RetryAfter { get; }
}
