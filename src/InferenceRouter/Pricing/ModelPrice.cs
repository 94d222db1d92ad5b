namespace InferenceRouter;

/// <summary>
/// A model's prices per one million tokens, as written under <c>InferenceRouter:Budgets:Prices</c> (kept for compatibility: prefer
/// <c>InferenceRouter:ModelCatalog:Models</c>, whose <see cref="ModelCatalogEntry"/> also holds the window, output limit and capabilities).
/// </summary>
public sealed class ModelPrice
{
    /// <summary>Gets or sets the price of one million uncached input tokens.</summary>
    public decimal InputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million cached input tokens; the input price when unset.</summary>
    public decimal? CachedInputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million output tokens.</summary>
    public decimal OutputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million reasoning tokens; the output price when unset.</summary>
    public decimal? ReasoningPerMillion { get; set; }

    /// <summary>Converts to the router's pricing type.</summary>
    /// <returns>The pricing.</returns>
    public RoutePricing ToPricing() => new(InputPerMillion, OutputPerMillion, CachedInputPerMillion, ReasoningPerMillion);

    /// <summary>The catalog entry that sets these prices (and nothing else).</summary>
    internal ModelCatalogEntry ToEntry() => new()
    {
        InputPerMillion = InputPerMillion,
        CachedInputPerMillion = CachedInputPerMillion,
        OutputPerMillion = OutputPerMillion,
        ReasoningPerMillion = ReasoningPerMillion,
    };
}
