namespace InferenceRouter;

/// <summary>
/// A long-context tier as written in configuration or a catalog file (<c>LongContext</c> under a model or route): above
/// <see cref="AbovePromptTokens"/> prompt tokens, all of a call's tokens are billed at these prices (<see cref="LongContextPricing"/>).
/// Its prices go together as a model's do: it needs <see cref="InputPerMillion"/> and <see cref="OutputPerMillion"/>, and each unset
/// price defaults within the tier (cached to its input price, reasoning to its output price…), never to the base prices.
/// </summary>
public sealed class LongContextPrice
{
    /// <summary>Gets or sets the prompt length, in tokens, above which the tier applies (Gemini 2.5 Pro, Claude Sonnet 4's 1M window: 200,000).</summary>
    public long? AbovePromptTokens { get; set; }

    /// <summary>Gets or sets the price of one million uncached input tokens in the tier.</summary>
    public decimal? InputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million cached input tokens in the tier; its input price when unset.</summary>
    public decimal? CachedInputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million output tokens in the tier.</summary>
    public decimal? OutputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million reasoning tokens in the tier; its output price when unset.</summary>
    public decimal? ReasoningPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million tokens written to the prompt cache (default lifetime) in the tier; its input price when unset.</summary>
    public decimal? CacheWritePerMillion { get; set; }

    /// <summary>Gets or sets the price of one million tokens written to the prompt cache for one hour in the tier; its <see cref="CacheWritePerMillion"/> when unset.</summary>
    public decimal? CacheWriteOneHourPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million audio input tokens in the tier; its input price when unset.</summary>
    public decimal? AudioInputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million audio output tokens in the tier; its output price when unset.</summary>
    public decimal? AudioOutputPerMillion { get; set; }

    /// <summary>Returns the tier as written for <paramref name="tier"/>.</summary>
    /// <param name="tier">The tier, or null.</param>
    /// <returns>The written tier, or null.</returns>
    public static LongContextPrice? From(LongContextPricing? tier) => tier is null ? null : new()
    {
        AbovePromptTokens = tier.AbovePromptTokens,
        InputPerMillion = tier.Pricing.InputPerMillion,
        CachedInputPerMillion = tier.Pricing.CachedInputPerMillion,
        OutputPerMillion = tier.Pricing.OutputPerMillion,
        ReasoningPerMillion = tier.Pricing.ReasoningPerMillion,
        CacheWritePerMillion = tier.Pricing.CacheWritePerMillion,
        CacheWriteOneHourPerMillion = tier.Pricing.CacheWriteOneHourPerMillion,
        AudioInputPerMillion = tier.Pricing.AudioInputPerMillion,
        AudioOutputPerMillion = tier.Pricing.AudioOutputPerMillion,
    };

    /// <summary>Converts to the router's tier (call <see cref="GetValidationErrors"/> first: a missing threshold or price reads as zero).</summary>
    /// <returns>The tier.</returns>
    public LongContextPricing ToPricing() => new(AbovePromptTokens ?? 0, new RoutePricing(InputPerMillion ?? 0m, OutputPerMillion ?? 0m, CachedInputPerMillion, ReasoningPerMillion)
    {
        CacheWritePerMillion = CacheWritePerMillion,
        CacheWriteOneHourPerMillion = CacheWriteOneHourPerMillion,
        AudioInputPerMillion = AudioInputPerMillion,
        AudioOutputPerMillion = AudioOutputPerMillion,
    });

    /// <summary>Lists what is wrong with the tier written at <paramref name="path"/> (e.g. <c>InferenceRouter:Routes:0:LongContext</c>), each message naming the key and the fix.</summary>
    internal IEnumerable<string> GetValidationErrors(string path)
    {
        if (AbovePromptTokens is not > 0)
        {
            yield return $"{path}:AbovePromptTokens is {(AbovePromptTokens is { } above ? above.ToString(System.Globalization.CultureInfo.InvariantCulture) : "missing")}; give the prompt length (tokens) above which the long-context prices apply, e.g. 200000.";
        }

        if (InputPerMillion is null || OutputPerMillion is null)
        {
            // A missing tier price must never read as free: the longest (dearest) prompts would spend without limit.
            yield return $"{path} has {(InputPerMillion is null ? "no InputPerMillion" : "no OutputPerMillion")}; a long-context tier needs both InputPerMillion and OutputPerMillion.";
        }

        foreach (var (label, price) in Prices)
        {
            if (price < 0)
            {
                yield return $"{path}:{label} is {price}; prices are per 1M tokens and must be zero or more.";
            }
        }
    }

    /// <summary>The tier's prices, by the key each is written under.</summary>
    private (string Label, decimal? Price)[] Prices =>
    [
        (nameof(InputPerMillion), InputPerMillion), (nameof(CachedInputPerMillion), CachedInputPerMillion), (nameof(OutputPerMillion), OutputPerMillion),
        (nameof(ReasoningPerMillion), ReasoningPerMillion), (nameof(CacheWritePerMillion), CacheWritePerMillion),
        (nameof(CacheWriteOneHourPerMillion), CacheWriteOneHourPerMillion), (nameof(AudioInputPerMillion), AudioInputPerMillion), (nameof(AudioOutputPerMillion), AudioOutputPerMillion),
    ];
}
