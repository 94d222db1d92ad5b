namespace InferenceRouter;

/// <summary>Learns how one admitted attempt ended (see <see cref="IRouteAttemptHook"/> for when it is called: exactly once per admitted attempt).</summary>
public interface IRouteAttemptObserver
{
    /// <summary>Called once when the attempt ended.</summary>
    /// <param name="report">How it ended and what the provider produced.</param>
    /// <returns>The attempt's cost when this observer priced it (a budget), else null; the router attaches the first cost given to the response.</returns>
    ValueTask<CallCost?> OnAttemptEndedAsync(RouteAttemptReport report);
}
