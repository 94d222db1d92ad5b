namespace InferenceRouter;

/// <summary>Prices of a route's model, in US dollars (or the catalog's currency) per one million tokens.</summary>
/// <param name="InputPerMillion">Price of one million uncached input (prompt) tokens.</param>
/// <param name="OutputPerMillion">Price of one million output (completion) tokens.</param>
/// <param name="CachedInputPerMillion">Price of one million input tokens served from the provider's prompt cache; defaults to the input price.</param>
/// <param name="ReasoningPerMillion">Price of one million reasoning tokens; defaults to the output price (providers bill reasoning as output).</param>
public sealed record RoutePricing(decimal InputPerMillion, decimal OutputPerMillion, decimal? CachedInputPerMillion = null, decimal? ReasoningPerMillion = null)
{
    /// <summary>A free route (local models, self-hosted endpoints).</summary>
    public static RoutePricing Free { get; } = new(0m, 0m);

    /// <summary>The price of one million cached input tokens: <see cref="CachedInputPerMillion"/>, or the input price when none is set.</summary>
    public decimal EffectiveCachedInputPerMillion => CachedInputPerMillion ?? InputPerMillion;

    /// <summary>The price of one million reasoning tokens: <see cref="ReasoningPerMillion"/>, or the output price when none is set.</summary>
    public decimal EffectiveReasoningPerMillion => ReasoningPerMillion ?? OutputPerMillion;

    /// <summary>Estimates the cost of a call with the given token counts.</summary>
    /// <param name="inputTokens">Uncached input tokens.</param>
    /// <param name="outputTokens">Output tokens, reasoning excluded.</param>
    /// <param name="cachedInputTokens">Input tokens served from the provider's prompt cache.</param>
    /// <param name="reasoningTokens">Reasoning tokens.</param>
    /// <returns>The cost in the pricing's currency.</returns>
    public decimal Estimate(long inputTokens, long outputTokens, long cachedInputTokens = 0, long reasoningTokens = 0) =>
        ((inputTokens * InputPerMillion) + (cachedInputTokens * EffectiveCachedInputPerMillion) +
         (outputTokens * OutputPerMillion) + (reasoningTokens * EffectiveReasoningPerMillion)) / 1_000_000m;

    /// <summary>Describes what is wrong with the prices, or returns <see langword="null"/>.</summary>
    /// <param name="owner">Whose prices these are (for the message), e.g. <c>Route 'gpt'</c>.</param>
    /// <returns>The problem with its fix, or <see langword="null"/>.</returns>
    internal string? GetValidationError(string owner) =>
        InputPerMillion < 0 || OutputPerMillion < 0 || CachedInputPerMillion < 0 || ReasoningPerMillion < 0
            ? $"{owner} has a negative price ({this}). Prices are per 1M tokens and must be zero or more."
            : null;
}
