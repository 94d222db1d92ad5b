namespace InferenceRouter;

/// <summary>
/// Every route that could take the call has a full quota (and none freed up within <see cref="RouterOptions.QuotaQueueTimeout"/>): the
/// message names each route, the limit that is full and when it frees up.
/// </summary>
/// <remarks>Also the reason a single route was not admitted (<see cref="RouteAttempt.Error"/> of a <see cref="RouteAttemptOutcome.NotAdmitted"/> attempt).</remarks>
public sealed class RouteQuotaExceededException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="routes">The full routes; at least one.</param>
    public RouteQuotaExceededException(IReadOnlyList<RouteQuotaWait> routes)
        : base(Describe(routes))
    {
        Routes = routes;
    }

    /// <summary>Gets the full routes, in the order they were tried.</summary>
    public IReadOnlyList<RouteQuotaWait> Routes { get; }

    /// <summary>
    /// Gets how long until the first of the routes frees up: the shortest <see cref="RouteQuotaWait.RetryAfter"/>; null when the earliest
    /// frees up only as a call in flight ends, <see cref="TimeSpan.MaxValue"/> when no route can ever take the call.
    /// </summary>
    public TimeSpan? RetryAfter
    {
        get
        {
            TimeSpan? soonest = TimeSpan.MaxValue;
            foreach (var route in Routes)
            {
                if (route.RetryAfter is not { } wait)
                {
                    return null;
                }

                soonest = wait < soonest ? wait : soonest;
            }

            return soonest;
        }
    }

    /// <summary>One exception for every route a call found full.</summary>
    internal static RouteQuotaExceededException Combine(List<RouteQuotaExceededException> denials)
    {
        if (denials.Count == 1)
        {
            return denials[0];
        }

        var routes = new List<RouteQuotaWait>(denials.Count);
        foreach (var denial in denials)
        {
            routes.AddRange(denial.Routes);
        }

        return new RouteQuotaExceededException(routes);
    }

    private static string Describe(IReadOnlyList<RouteQuotaWait> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        if (routes.Count == 0)
        {
            throw new ArgumentException("Name at least one full route.", nameof(routes));
        }

        return routes.Count == 1
            ? $"Route {routes[0]} has a full quota."
            : $"Every route's quota is full: {string.Join(", ", routes)}.";
    }
}
