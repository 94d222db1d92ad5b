namespace InferenceRouter;

/// <summary>Prices of a route's model, in US dollars (or the catalog's currency) per one million tokens.</summary>
/// <param name="InputPerMillion">Price of one million uncached input (prompt) tokens.</param>
/// <param name="OutputPerMillion">Price of one million output (completion) tokens.</param>
/// <param name="CachedInputPerMillion">Price of one million input tokens served from the provider's prompt cache; defaults to the input price.</param>
public sealed record RoutePricing(decimal InputPerMillion, decimal OutputPerMillion, decimal? CachedInputPerMillion = null)
{
    /// <summary>A free route (local models, self-hosted endpoints).</summary>
    public static RoutePricing Free { get; } = new(0m, 0m);

    /// <summary>The price of one million cached input tokens: <see cref="CachedInputPerMillion"/>, or the input price when none is set.</summary>
    public decimal EffectiveCachedInputPerMillion => CachedInputPerMillion ?? InputPerMillion;

    /// <summary>Estimates the cost of a call with the given token counts.</summary>
    /// <param name="inputTokens">Uncached input tokens.</param>
    /// <param name="outputTokens">Output tokens.</param>
    /// <param name="cachedInputTokens">Input tokens served from the provider's prompt cache.</param>
    /// <returns>The cost in the pricing's currency.</returns>
    public decimal Estimate(long inputTokens, long outputTokens, long cachedInputTokens = 0) =>
        ((inputTokens * InputPerMillion) + (cachedInputTokens * EffectiveCachedInputPerMillion) + (outputTokens * OutputPerMillion)) / 1_000_000m;
}
