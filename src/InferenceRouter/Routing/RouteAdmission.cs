namespace InferenceRouter;

/// <summary>An <see cref="IRouteAttemptHook"/>'s verdict on one attempt: admitted (optionally with an observer and an output limit), or denied.</summary>
public readonly struct RouteAdmission
{
    private RouteAdmission(Exception? denial, bool endsCall, IRouteAttemptObserver? observer, int? maxOutputTokens)
    {
        Denial = denial;
        EndsCall = endsCall;
        Observer = observer;
        MaxOutputTokens = maxOutputTokens;
    }

    /// <summary>Gets the verdict that lets the attempt start with nothing to observe.</summary>
    public static RouteAdmission Admitted => default;

    /// <summary>Gets a value indicating whether the attempt may start.</summary>
    public bool IsAdmitted => Denial is null;

    /// <summary>Gets why the attempt may not start (shown in <see cref="RouteAttempt.Error"/>), or null when admitted.</summary>
    public Exception? Denial { get; }

    /// <summary>Gets a value indicating whether the denial fails the whole call at once instead of skipping the route.</summary>
    public bool EndsCall { get; }

    /// <summary>Gets who is told how the admitted attempt ended, or null.</summary>
    public IRouteAttemptObserver? Observer { get; }

    /// <summary>
    /// Gets the output limit the attempt must be sent with (a budget reserved for exactly this many output tokens), or null to leave the
    /// request's own. With several hooks, the smallest wins.
    /// </summary>
    public int? MaxOutputTokens { get; }

    /// <summary>Admits the attempt.</summary>
    /// <param name="observer">Who to tell how it ended; null for nobody.</param>
    /// <param name="maxOutputTokens">The output limit the provider must be sent, or null.</param>
    /// <returns>The verdict.</returns>
    public static RouteAdmission Admit(IRouteAttemptObserver? observer = null, int? maxOutputTokens = null)
    {
        if (maxOutputTokens is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxOutputTokens), maxOutputTokens, "An admitted attempt's output limit must be positive.");
        }

        return new(null, false, observer, maxOutputTokens);
    }

    /// <summary>Denies the attempt.</summary>
    /// <param name="reason">Why; the exception the call fails with when no other route answers (or at once, with <paramref name="endsCall"/>).</param>
    /// <param name="endsCall">Whether to fail the call now rather than try the next route.</param>
    /// <returns>The verdict.</returns>
    public static RouteAdmission Deny(Exception reason, bool endsCall = false)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return new(reason, endsCall, null, null);
    }
}
