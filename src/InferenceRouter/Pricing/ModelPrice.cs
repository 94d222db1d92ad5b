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

    /// <summary>Gets or sets the price of one million input tokens written to the prompt cache (default lifetime); the input price when unset.</summary>
    public decimal? CacheWritePerMillion { get; set; }

    /// <summary>Gets or sets the price of one million input tokens written to the prompt cache for one hour; <see cref="CacheWritePerMillion"/> when unset.</summary>
    public decimal? CacheWriteOneHourPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million audio input tokens; the input price when unset.</summary>
    public decimal? AudioInputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million audio output tokens; the output price when unset.</summary>
    public decimal? AudioOutputPerMillion { get; set; }

    /// <summary>Gets or sets the long-context tier; none when unset.</summary>
    public LongContextPrice? LongContext { get; set; }

    /// <summary>Converts to the router's pricing type.</summary>
    /// <returns>The pricing.</returns>
    public RoutePricing ToPricing() => new(InputPerMillion, OutputPerMillion, CachedInputPerMillion, ReasoningPerMillion)
    {
        CacheWritePerMillion = CacheWritePerMillion,
        CacheWriteOneHourPerMillion = CacheWriteOneHourPerMillion,
        AudioInputPerMillion = AudioInputPerMillion,
        AudioOutputPerMillion = AudioOutputPerMillion,
        LongContext = LongContext?.ToPricing(),
    };

    /// <summary>The catalog entry that sets these prices (and nothing else).</summary>
    internal ModelCatalogEntry ToEntry() => new()
    {
        InputPerMillion = InputPerMillion,
        CachedInputPerMillion = CachedInputPerMillion,
        OutputPerMillion = OutputPerMillion,
        ReasoningPerMillion = ReasoningPerMillion,
        CacheWritePerMillion = CacheWritePerMillion,
        CacheWriteOneHourPerMillion = CacheWriteOneHourPerMillion,
        AudioInputPerMillion = AudioInputPerMillion,
        AudioOutputPerMillion = AudioOutputPerMillion,
        LongContext = LongContext,
    };
}
