namespace InferenceRouter;

/// <summary>Prices of a route's model, in US dollars (or the catalog's currency) per one million tokens.</summary>
/// <param name="InputPerMillion">Price of one million uncached input (prompt) tokens.</param>
/// <param name="OutputPerMillion">Price of one million output (completion) tokens.</param>
/// <param name="CachedInputPerMillion">Price of one million input tokens served from the provider's prompt cache; defaults to the input price.</param>
/// <param name="ReasoningPerMillion">Price of one million reasoning tokens; defaults to the output price (providers bill reasoning as output).</param>
/// <remarks>
/// A call is charged what its usage says, part by part: uncached, cached, cache-write and audio input; text, reasoning and audio output.
/// What a usage does not split is charged at the dearest price it may have been billed at (docs/budgets.md), so the ledger is never below
/// the provider's invoice.
/// </remarks>
public sealed record RoutePricing(decimal InputPerMillion, decimal OutputPerMillion, decimal? CachedInputPerMillion = null, decimal? ReasoningPerMillion = null)
{
    /// <summary>A free route (local models, self-hosted endpoints).</summary>
    public static RoutePricing Free { get; } = new(0m, 0m);

    /// <summary>
    /// Gets the price of one million input tokens written to the provider's prompt cache with its default lifetime (Anthropic: 5 minutes,
    /// 1.25× input); the input price when unset.
    /// </summary>
    public decimal? CacheWritePerMillion { get; init; }

    /// <summary>
    /// Gets the price of one million input tokens written to the prompt cache with the longer lifetime (Anthropic: 1 hour, 2× input); the
    /// <see cref="CacheWritePerMillion"/> price when unset. A usage that does not say which lifetime its writes had is charged the dearer one.
    /// </summary>
    public decimal? CacheWriteOneHourPerMillion { get; init; }

    /// <summary>Gets the price of one million audio input tokens (Gemini 2.5 Flash: $1.00 against $0.30 for text); the input price when unset.</summary>
    public decimal? AudioInputPerMillion { get; init; }

    /// <summary>Gets the price of one million audio output tokens; the output price when unset.</summary>
    public decimal? AudioOutputPerMillion { get; init; }

    /// <summary>
    /// Gets the prices of a call whose prompt is longer than a threshold (Gemini 2.5 Pro and Claude Sonnet's 1M window above 200,000
    /// tokens): all of that call's tokens are billed at them. None when null.
    /// </summary>
    public LongContextPricing? LongContext { get; init; }

    /// <summary>The price of one million cached input tokens: <see cref="CachedInputPerMillion"/>, or the input price when none is set.</summary>
    public decimal EffectiveCachedInputPerMillion => CachedInputPerMillion ?? InputPerMillion;

    /// <summary>The price of one million reasoning tokens: <see cref="ReasoningPerMillion"/>, or the output price when none is set.</summary>
    public decimal EffectiveReasoningPerMillion => ReasoningPerMillion ?? OutputPerMillion;

    /// <summary>
    /// The price one million cache-write tokens are charged when their lifetime is not reported: the dearer of
    /// <see cref="CacheWritePerMillion"/> and <see cref="CacheWriteOneHourPerMillion"/> (the input price when neither is set).
    /// </summary>
    public decimal EffectiveCacheWritePerMillion => Math.Max(CacheWritePerMillion ?? InputPerMillion, CacheWriteOneHourPerMillion ?? CacheWritePerMillion ?? InputPerMillion);

    /// <summary>The price of one million audio input tokens: <see cref="AudioInputPerMillion"/>, or the input price when none is set.</summary>
    public decimal EffectiveAudioInputPerMillion => AudioInputPerMillion ?? InputPerMillion;

    /// <summary>The price of one million audio output tokens: <see cref="AudioOutputPerMillion"/>, or the output price when none is set.</summary>
    public decimal EffectiveAudioOutputPerMillion => AudioOutputPerMillion ?? OutputPerMillion;

    /// <summary>Estimates the cost of a call with the given token counts (at these prices: no long-context tier, no audio, no cache writes).</summary>
    /// <param name="inputTokens">Uncached input tokens.</param>
    /// <param name="outputTokens">Output tokens, reasoning excluded.</param>
    /// <param name="cachedInputTokens">Input tokens served from the provider's prompt cache.</param>
    /// <param name="reasoningTokens">Reasoning tokens.</param>
    /// <returns>The cost in the pricing's currency.</returns>
    public decimal Estimate(long inputTokens, long outputTokens, long cachedInputTokens = 0, long reasoningTokens = 0) =>
        ((inputTokens * InputPerMillion) + (cachedInputTokens * EffectiveCachedInputPerMillion) +
         (outputTokens * OutputPerMillion) + (reasoningTokens * EffectiveReasoningPerMillion)) / 1_000_000m;

    /// <summary>The prices a call whose billed prompt has <paramref name="promptTokens"/> tokens is charged at: the long-context tier's above its threshold.</summary>
    internal RoutePricing For(long promptTokens) => LongContext is { } tier && promptTokens > tier.AbovePromptTokens ? tier.Pricing : this;

    /// <summary>The exact cost of <paramref name="tokens"/> at these prices (no tier is chosen here), in the currency.</summary>
    internal decimal Cost(in BilledTokens tokens) =>
        ((tokens.Input * InputPerMillion) + (tokens.CachedInput * EffectiveCachedInputPerMillion) + (tokens.CacheWrite * EffectiveCacheWritePerMillion) +
         (tokens.AudioInput * EffectiveAudioInputPerMillion) + (tokens.Output * OutputPerMillion) + (tokens.Reasoning * EffectiveReasoningPerMillion) +
         (tokens.AudioOutput * EffectiveAudioOutputPerMillion)) / 1_000_000m;

    /// <summary>The most one million prompt tokens may be billed at: as input, cached, written to the cache, or (when the prompt holds audio) audio.</summary>
    internal decimal MostPerPromptToken(bool audio) =>
        Math.Max(Math.Max(InputPerMillion, EffectiveCachedInputPerMillion), Math.Max(EffectiveCacheWritePerMillion, audio ? EffectiveAudioInputPerMillion : 0m));

    /// <summary>The most one million output tokens may be billed at: as text, reasoning or audio.</summary>
    internal decimal MostPerOutputToken => Math.Max(OutputPerMillion, Math.Max(EffectiveReasoningPerMillion, EffectiveAudioOutputPerMillion));

    /// <summary>Describes what is wrong with the prices, or returns <see langword="null"/>.</summary>
    /// <param name="owner">Whose prices these are (for the message), e.g. <c>Route 'gpt'</c>.</param>
    /// <returns>The problem with its fix, or <see langword="null"/>.</returns>
    internal string? GetValidationError(string owner)
    {
        if (InputPerMillion < 0 || OutputPerMillion < 0 || CachedInputPerMillion < 0 || ReasoningPerMillion < 0 || CacheWritePerMillion < 0 ||
            CacheWriteOneHourPerMillion < 0 || AudioInputPerMillion < 0 || AudioOutputPerMillion < 0)
        {
            return $"{owner} has a negative price ({this}). Prices are per 1M tokens and must be zero or more.";
        }

        return LongContext switch
        {
            null => null,
            { AbovePromptTokens: <= 0 } tier => $"{owner}'s LongContext:AbovePromptTokens is {tier.AbovePromptTokens}; give the prompt length (tokens) above which the long-context prices apply, a positive number.",
            { Pricing.LongContext: not null } => $"{owner}'s LongContext has a LongContext of its own; give one tier (its threshold and prices) and leave the tier's own LongContext unset.",
            var tier => tier.Pricing.GetValidationError($"{owner}'s LongContext"),
        };
    }
}
