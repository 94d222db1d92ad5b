namespace InferenceRouter;

/// <summary>Excludes routes whose worst-case cost for the call exceeds <see cref="RoutingHints.MaxCost"/>.</summary>
/// <remarks>
/// Worst case: the prompt's tokens (counted with the route's tokenizer) at the input price plus the output limit at the output price.
/// A route with unknown prices, or a call with no output limit on a priced route, cannot be shown to fit and is excluded.
/// </remarks>
internal sealed class MaxCostFilter : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "max-cost";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (selection.Hints.MaxCost is not { } maxCost)
        {
            return;
        }

        for (int i = 0; i < selection.Count; i++)
        {
            var route = selection.Routes[i];
            if (selection.IsExcluded(i))
            {
                continue;
            }

            var pricing = route.Descriptor.IsLocal ? RoutePricing.Free : route.Descriptor.Pricing;
            if (pricing is null)
            {
                selection.Exclude(i, this, "price unknown");
                continue;
            }

            int? output = selection.GetMaxOutputTokens(route);
            if (output is null && pricing.OutputPerMillion > 0)
            {
                selection.Exclude(i, this, "no output limit to bound the cost");
                continue;
            }

            decimal worstCase = pricing.Estimate(selection.CountPromptTokens(route), output ?? 0);
            if (worstCase > maxCost)
            {
                selection.Exclude(i, this, selection.IsExplaining ? $"worst case {worstCase:G6} over {maxCost:G6}" : "worst-case cost over the maximum");
            }
        }
    }
}
