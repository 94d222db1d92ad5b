namespace InferenceRouter;

/// <summary>Ranks routes by the attempts they have under way: the least busy goes first.</summary>
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
                selection.SetScore(i, this, selection.Routes[i].Health.InFlight);
            }
        }
    }
}
