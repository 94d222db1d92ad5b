namespace InferenceRouter;

/// <summary>One full route in a <see cref="RouteQuotaExceededException"/>: which of its limits is full, and when it frees up.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Limit">The limit that is full: <c>requests per minute</c>, <c>tokens per minute</c>, <c>concurrency</c>, or a tenant's share of one.</param>
/// <param name="RetryAfter">
/// How long until the call fits; null when it frees up only as a call in flight ends (concurrency), <see cref="TimeSpan.MaxValue"/> when the
/// call can never fit (it needs more tokens than the route takes in a whole minute).
/// </param>
public readonly record struct RouteQuotaWait(string Route, string Limit, TimeSpan? RetryAfter)
{
    /// <summary>Gets a value indicating whether the call can never fit this route's quota.</summary>
    public bool NeverFits => RetryAfter == TimeSpan.MaxValue;

    /// <inheritdoc/>
    public override string ToString() => RetryAfter switch
    {
        null => $"'{Route}' ({Limit}: frees up when a call in flight ends)",
        { } never when never == TimeSpan.MaxValue => $"'{Route}' ({Limit}: the call needs more than the route takes in a minute)",
        { } wait => $"'{Route}' ({Limit}: frees up in {wait.TotalMilliseconds:F0} ms)",
    };
}
