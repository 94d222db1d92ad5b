namespace InferenceRouter;

/// <summary>Spreads calls over routes in proportion to <see cref="RouteDescriptor.Weight"/>; the failover order is random too.</summary>
/// <remarks>Each route draws an exponential key −ln(u)/weight and the smallest goes first, so a route comes first with probability weight/Σweights.</remarks>
internal sealed class WeightedRandomRanker : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "weighted-random";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        for (int i = 0; i < selection.Count; i++)
        {
            if (!selection.IsExcluded(i))
            {
                double u = 1.0 - Random.Shared.NextDouble(); // (0, 1]: the log stays finite
                selection.SetScore(i, this, -Math.Log(u) / selection.Routes[i].Descriptor.Weight);
            }
        }
    }
}
