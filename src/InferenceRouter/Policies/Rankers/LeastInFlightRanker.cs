namespace InferenceRouter;

/// <summary>
/// Ranks routes by the attempts they have under way: the least busy goes first; between routes equally busy, the one with more of its
/// quota left (<see cref="ChatRoute.QuotaHeadroom"/>, less than one attempt's weight, so it only breaks ties).
/// </summary>
internal sealed class LeastInFlightRanker : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "least-in-flight";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        for (int i = 0; i < selection.Count; i++)
        {
            if (!selection.IsExcluded(i))
            {
                var route = selection.Routes[i];
                selection.SetScore(i, this, route.Health.InFlight + (0.5 * (1 - route.QuotaHeadroom)));
            }
        }
    }
}
