namespace InferenceRouter;

/// <summary>
/// One model as written in a model-catalog file, in configuration (<c>InferenceRouter:ModelCatalog:Models:&lt;id&gt;</c>) or in code: its
/// prices per one million tokens, context window, output limit and capabilities. Every field is optional; an entry that overrides a
/// listed model replaces only what it sets. The prices go together: an entry that sets any price (a long-context tier included) sets them
/// all (it needs <see cref="InputPerMillion"/> and <see cref="OutputPerMillion"/>; an unset cached or cache-write price is the input price,
/// an unset reasoning price the output price, an unset audio price the text one, an unset tier none), so a new input price never meets an
/// old cached, cache-write, audio or long-context one.
/// </summary>
public sealed class ModelCatalogEntry
{
    /// <summary>Gets or sets the price of one million uncached input tokens.</summary>
    public decimal? InputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million cached input tokens; the input price when unset.</summary>
    public decimal? CachedInputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million output tokens.</summary>
    public decimal? OutputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million reasoning tokens; the output price when unset.</summary>
    public decimal? ReasoningPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million input tokens written to the prompt cache with its default lifetime (Anthropic: 5 minutes); the input price when unset.</summary>
    public decimal? CacheWritePerMillion { get; set; }

    /// <summary>Gets or sets the price of one million input tokens written to the prompt cache for one hour; <see cref="CacheWritePerMillion"/> when unset.</summary>
    public decimal? CacheWriteOneHourPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million audio input tokens; the input price when unset.</summary>
    public decimal? AudioInputPerMillion { get; set; }

    /// <summary>Gets or sets the price of one million audio output tokens; the output price when unset.</summary>
    public decimal? AudioOutputPerMillion { get; set; }

    /// <summary>Gets or sets the long-context tier: above its prompt length, all of a call's tokens are billed at its prices. None when unset.</summary>
    public LongContextPrice? LongContext { get; set; }

    /// <summary>Gets or sets the context window in tokens (prompt plus output).</summary>
    public int? ContextWindow { get; set; }

    /// <summary>Gets or sets the most output tokens the model produces in one call.</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>
    /// Gets or sets the most input tokens one image is billed on this model (its largest image at its highest detail), which a budget reserves
    /// per image instead of <see cref="MediaTokenBounds.Image"/>: OpenAI's models bill from 1,190 (gpt-5) to 48,169 (gpt-4o-mini) tokens for
    /// one image.
    /// </summary>
    public int? MaxImageTokens { get; set; }

    /// <summary>
    /// Gets or sets everything the model can do, e.g. <c>"Tools, Images, JsonSchema, Streaming, Reasoning"</c>: the whole list (an
    /// override replaces it, never adds to it); <c>"None"</c> for plain text chat only.
    /// </summary>
    public RouteCapabilities? Capabilities { get; set; }

    /// <summary>Returns the entry for <paramref name="model"/> (what a catalog holds).</summary>
    /// <param name="model">The model.</param>
    /// <returns>The entry.</returns>
    public static ModelCatalogEntry From(ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new()
        {
            InputPerMillion = model.Pricing?.InputPerMillion,
            CachedInputPerMillion = model.Pricing?.CachedInputPerMillion,
            OutputPerMillion = model.Pricing?.OutputPerMillion,
            ReasoningPerMillion = model.Pricing?.ReasoningPerMillion,
            CacheWritePerMillion = model.Pricing?.CacheWritePerMillion,
            CacheWriteOneHourPerMillion = model.Pricing?.CacheWriteOneHourPerMillion,
            AudioInputPerMillion = model.Pricing?.AudioInputPerMillion,
            AudioOutputPerMillion = model.Pricing?.AudioOutputPerMillion,
            LongContext = LongContextPrice.From(model.Pricing?.LongContext),
            ContextWindow = model.ContextWindow,
            MaxOutputTokens = model.MaxOutputTokens,
            MaxImageTokens = model.MaxImageTokens,
            Capabilities = model.Capabilities,
        };
    }

    /// <summary>Lists what is wrong with the entry as a whole model (after any merge), each message naming <paramref name="path"/> and the fix.</summary>
    internal IEnumerable<string> GetValidationErrors(string path)
    {
        foreach (var (label, price) in new[]
        {
            (nameof(InputPerMillion), InputPerMillion), (nameof(CachedInputPerMillion), CachedInputPerMillion), (nameof(OutputPerMillion), OutputPerMillion),
            (nameof(ReasoningPerMillion), ReasoningPerMillion), (nameof(CacheWritePerMillion), CacheWritePerMillion), (nameof(CacheWriteOneHourPerMillion), CacheWriteOneHourPerMillion),
            (nameof(AudioInputPerMillion), AudioInputPerMillion), (nameof(AudioOutputPerMillion), AudioOutputPerMillion),
        })
        {
            if (price < 0)
            {
                yield return $"{path}:{label} is {price}; prices are per 1M tokens and must be zero or more.";
            }
        }

        if (SetsPrices && (InputPerMillion is null || OutputPerMillion is null))
        {
            // A missing price must never read as free: a budget would let the model spend without limit.
            yield return $"{path} has {(InputPerMillion is null ? "no InputPerMillion" : "no OutputPerMillion")}; a priced model needs both InputPerMillion and OutputPerMillion.";
        }

        foreach (var error in LongContext?.GetValidationErrors($"{path}:{nameof(LongContext)}") ?? [])
        {
            yield return error;
        }

        if (ContextWindow is <= 0)
        {
            yield return $"{path}:ContextWindow is {ContextWindow}; give a positive number of tokens or leave it unset.";
        }

        if (MaxOutputTokens is <= 0)
        {
            yield return $"{path}:MaxOutputTokens is {MaxOutputTokens}; give a positive number of tokens or leave it unset.";
        }

        if (MaxImageTokens is <= 0)
        {
            yield return $"{path}:MaxImageTokens is {MaxImageTokens}; give the most input tokens one image is billed on this model (a positive number) or leave it unset.";
        }

        if (ContextWindow is > 0 and var window && MaxOutputTokens is > 0 and var maxOut && maxOut > window)
        {
            yield return $"{path}:MaxOutputTokens {maxOut} is larger than its ContextWindow {window}; the window holds the prompt and the output.";
        }

        if (Capabilities is { } capabilities && (capabilities & ~RouteCapabilities.All) != 0)
        {
            yield return $"{path}:Capabilities is {(int)capabilities}, which names no known capability; list some of {RouteCapabilities.All}, or None.";
        }
    }

    private bool SetsPrices => InputPerMillion is not null || OutputPerMillion is not null || CachedInputPerMillion is not null || ReasoningPerMillion is not null ||
        CacheWritePerMillion is not null || CacheWriteOneHourPerMillion is not null || AudioInputPerMillion is not null || AudioOutputPerMillion is not null || LongContext is not null;

    /// <summary>This entry's fields over <paramref name="baseline"/>'s: what an override of a listed model means.</summary>
    internal ModelCatalogEntry Over(ModelCatalogEntry? baseline) => baseline is null ? this : new()
    {
        InputPerMillion = SetsPrices ? InputPerMillion : baseline.InputPerMillion,
        CachedInputPerMillion = SetsPrices ? CachedInputPerMillion : baseline.CachedInputPerMillion,
        OutputPerMillion = SetsPrices ? OutputPerMillion : baseline.OutputPerMillion,
        ReasoningPerMillion = SetsPrices ? ReasoningPerMillion : baseline.ReasoningPerMillion,
        CacheWritePerMillion = SetsPrices ? CacheWritePerMillion : baseline.CacheWritePerMillion,
        CacheWriteOneHourPerMillion = SetsPrices ? CacheWriteOneHourPerMillion : baseline.CacheWriteOneHourPerMillion,
        AudioInputPerMillion = SetsPrices ? AudioInputPerMillion : baseline.AudioInputPerMillion,
        AudioOutputPerMillion = SetsPrices ? AudioOutputPerMillion : baseline.AudioOutputPerMillion,
        LongContext = SetsPrices ? LongContext : baseline.LongContext,
        ContextWindow = ContextWindow ?? baseline.ContextWindow,

        // A smaller window set alone caps the listed output limit (a deployment's window), as a route's declared window does.
        MaxOutputTokens = MaxOutputTokens ?? (baseline.MaxOutputTokens is { } listed && ContextWindow is > 0 and var window ? Math.Min(listed, window) : baseline.MaxOutputTokens),
        MaxImageTokens = MaxImageTokens ?? baseline.MaxImageTokens,
        Capabilities = Capabilities ?? baseline.Capabilities,
    };

    /// <summary>The validated model (call <see cref="GetValidationErrors"/> first).</summary>
    internal ModelInfo ToModel() => new()
    {
        Pricing = InputPerMillion is { } input && OutputPerMillion is { } output
            ? new RoutePricing(input, output, CachedInputPerMillion, ReasoningPerMillion)
            {
                CacheWritePerMillion = CacheWritePerMillion,
                CacheWriteOneHourPerMillion = CacheWriteOneHourPerMillion,
                AudioInputPerMillion = AudioInputPerMillion,
                AudioOutputPerMillion = AudioOutputPerMillion,
                LongContext = LongContext?.ToPricing(),
            }
            : null,
        ContextWindow = ContextWindow,
        MaxOutputTokens = MaxOutputTokens,
        MaxImageTokens = MaxImageTokens,
        Capabilities = Capabilities,
    };
}
