namespace InferenceRouter;

/// <summary>
/// Ranks routes by the share of their quota left now (<see cref="ChatRoute.QuotaHeadroom"/>: the tightest of requests, tokens and
/// concurrency, declared or learned from the provider's headers): the route with the most left goes first, as LiteLLM's usage-based
/// routing does, so load spreads by headroom before any route is full. Routes without a quota count as wholly free; ties keep registration order.
/// </summary>
internal sealed class MostHeadroomRanker : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => RoutingPolicies.MostHeadroom;

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        for (int i = 0; i < selection.Count; i++)
        {
            if (!selection.IsExcluded(i))
            {
                selection.SetScore(i, this, -selection.Routes[i].QuotaHeadroom);
            }
        }
    }
}
