namespace InferenceRouter;

/// <summary>Ranks routes in the order they were registered: the first is tried first, the rest are failover targets in turn.</summary>
internal sealed class PriorityRanker : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "priority";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        for (int i = 0; i < selection.Count; i++)
        {
            if (!selection.IsExcluded(i))
            {
                selection.SetScore(i, this, i);
            }
        }
    }
}
