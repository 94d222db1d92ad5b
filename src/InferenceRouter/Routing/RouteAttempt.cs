namespace InferenceRouter;

/// <summary>One attempt the router made for a call.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Error">The exception, when it failed or timed out.</param>
/// <param name="StatusCode">The HTTP status, when the failure carried one (or its error named one).</param>
/// <param name="Failure">What kind of failure it was (what the router did about it), for failed and timed-out attempts; null otherwise.</param>
public readonly record struct RouteAttempt(string Route, RouteAttemptOutcome Outcome, TimeSpan Duration, Exception? Error = null, int? StatusCode = null, FailureKind? Failure = null)
{
    /// <inheritdoc/>
    public override string ToString()
    {
        string error = Error is null ? string.Empty : $": {(StatusCode is { } s ? $"HTTP {s} " : string.Empty)}{(Failure is { } kind and not FailureKind.Unspecified ? $"({kind}) " : string.Empty)}{Error.GetType().Name}: {ErrorText.Of(Error)}";
        return $"{Route} {Outcome} after {Duration.TotalMilliseconds:F0} ms{error}";
    }
}
