namespace InferenceRouter;

/// <summary>How one attempt ended, with its result or error (internal to the router).</summary>
internal readonly record struct AttemptResult<T>(
    ChatRoute Route,
    T? Value,
    Exception? Error,
    RouteAttemptOutcome Outcome,
    FailureClassification Classification,
    AttemptCancellation? Cancellation,
    long StartedTimestamp,
    TimeSpan Duration,
    AttemptObservers Observers = default,
    bool EndsCall = false)
{
    public bool Succeeded => Outcome == RouteAttemptOutcome.Succeeded;

    public RouteAttempt ToAttempt() => new(
        Route.Name, Outcome, Duration, Error, Classification.StatusCode, Outcome is RouteAttemptOutcome.Failed or RouteAttemptOutcome.TimedOut ? Classification.EffectiveKind : null);
}

/// <summary>The attempt that answered a call, and every attempt made for it.</summary>
internal readonly record struct Winner<T>(AttemptResult<T> Result, RouteAttempt[] Attempts, bool Hedged);
