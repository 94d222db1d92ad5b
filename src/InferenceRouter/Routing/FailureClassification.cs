namespace InferenceRouter;

/// <summary>What the router makes of an attempt's exception.</summary>
/// <param name="IsTransient">Whether another route may well succeed (408, 429, 5xx, timeouts, connection errors): the router fails over.</param>
/// <param name="StatusCode">The HTTP status, when the exception carries one.</param>
/// <param name="RetryAfter">How long the route asked callers to wait (Retry-After); the router skips it until then.</param>
/// <param name="IsConnectionFailure">Whether no connection could be made (refused, unreachable, DNS): when every remote route fails so, the app is offline.</param>
public readonly record struct FailureClassification(bool IsTransient, int? StatusCode = null, TimeSpan? RetryAfter = null, bool IsConnectionFailure = false);
