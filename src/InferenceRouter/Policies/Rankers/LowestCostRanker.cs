namespace InferenceRouter;

/// <summary>Ranks routes by the call's estimated cost: estimated prompt tokens at the input price plus expected output at the output price.</summary>
/// <remarks>Local routes cost nothing; routes with unknown prices come last. Ties keep registration order.</remarks>
internal sealed class LowestCostRanker : IRoutingPolicy
{
    /// <summary>Creates the ranker.</summary>
    /// <param name="expectedOutputTokens">Output tokens assumed when the request sets no limit. Default: 500.</param>
    public LowestCostRanker(int expectedOutputTokens = 500)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedOutputTokens);
        ExpectedOutputTokens = expectedOutputTokens;
    }

    /// <summary>Gets the output tokens assumed when the request sets no limit.</summary>
    public int ExpectedOutputTokens { get; }

    /// <inheritdoc/>
    public string Name => "lowest-cost";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        int prompt = selection.EstimatedPromptTokens;
        int output = selection.Options?.MaxOutputTokens ?? ExpectedOutputTokens;
        for (int i = 0; i < selection.Count; i++)
        {
            if (selection.IsExcluded(i))
            {
                continue;
            }

            var descriptor = selection.Routes[i].Descriptor;
            var pricing = descriptor.IsLocal ? RoutePricing.Free : descriptor.Pricing;
            selection.SetScore(i, this, pricing is null ? double.PositiveInfinity : (double)pricing.Estimate(prompt, output));
        }
    }
}
