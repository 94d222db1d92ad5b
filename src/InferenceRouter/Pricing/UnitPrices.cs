namespace InferenceRouter;

/// <summary>
/// A route's prices per token in <see cref="BudgetUnits"/> (10⁻¹⁰ of the currency), when every price is a whole number of units
/// (four decimals per million tokens: true of every list price we know). Estimates and costs are then integer arithmetic, several
/// times cheaper than <see langword="decimal"/> and exactly equal to it. Built once per route; never per call.
/// </summary>
internal sealed class UnitPrices
{
    private const decimal UnitsPerTokenPerMillion = 10_000m; // 10¹⁰ units per currency unit ÷ 10⁶ tokens

    private UnitPrices(RoutePricing pricing, long[] units, UnitPrices? longContext)
    {
        (Input, CachedInput, CacheWrite, AudioInput, Output, Reasoning, AudioOutput) = (units[0], units[1], units[2], units[3], units[4], units[5], units[6]);
        MostPerPromptToken = units[7];
        MostPerAudioPromptToken = units[8];
        MostPerOutputToken = units[9];
        LongContextAbove = pricing.LongContext?.AbovePromptTokens ?? long.MaxValue;
        LongContext = longContext;
    }

    public long Input { get; }

    public long CachedInput { get; }

    public long CacheWrite { get; }

    public long AudioInput { get; }

    public long Output { get; }

    public long Reasoning { get; }

    public long AudioOutput { get; }

    /// <summary>Gets the most one prompt token may cost (input, cached or cache write).</summary>
    public long MostPerPromptToken { get; }

    /// <summary>Gets the most one prompt token of a prompt holding audio may cost (audio too).</summary>
    public long MostPerAudioPromptToken { get; }

    /// <summary>Gets the most one output token may cost (text, reasoning or audio).</summary>
    public long MostPerOutputToken { get; }

    private long LongContextAbove { get; }

    private UnitPrices? LongContext { get; }

    public static UnitPrices? From(RoutePricing pricing)
    {
        UnitPrices? longContext = null;
        if (pricing.LongContext is { } tier && (longContext = From(tier.Pricing)) is null)
        {
            return null;
        }

        decimal[] perMillion =
        [
            pricing.InputPerMillion, pricing.EffectiveCachedInputPerMillion, pricing.EffectiveCacheWritePerMillion, pricing.EffectiveAudioInputPerMillion,
            pricing.OutputPerMillion, pricing.EffectiveReasoningPerMillion, pricing.EffectiveAudioOutputPerMillion,
            pricing.MostPerPromptToken(audio: false), pricing.MostPerPromptToken(audio: true), pricing.MostPerOutputToken,
        ];
        var units = new long[perMillion.Length];
        for (int i = 0; i < perMillion.Length; i++)
        {
            if (!TryConvert(perMillion[i], out units[i]))
            {
                return null;
            }
        }

        return new UnitPrices(pricing, units, longContext);
    }

    /// <summary>The prices a call whose billed prompt has <paramref name="promptTokens"/> tokens is charged at (<see cref="RoutePricing.For"/>).</summary>
    public UnitPrices For(long promptTokens) => promptTokens > LongContextAbove ? LongContext! : this;

    /// <summary>The cost of these tokens at these prices (no tier is chosen here), or null when it would overflow (the caller falls back to decimals).</summary>
    public long? Cost(in BilledTokens tokens)
    {
        try
        {
            return checked((tokens.Input * Input) + (tokens.CachedInput * CachedInput) + (tokens.CacheWrite * CacheWrite) + (tokens.AudioInput * AudioInput) +
                (tokens.Output * Output) + (tokens.Reasoning * Reasoning) + (tokens.AudioOutput * AudioOutput));
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>
    /// The most a call of at most <paramref name="promptTokens"/> prompt tokens and <paramref name="maxOutput"/> output tokens can cost: every
    /// token at its dearest price, in the base prices and, when the prompt may be longer than the long-context threshold, the tier's too
    /// (the dearer of the two). Null when it would overflow.
    /// </summary>
    public long? Reserve(long promptTokens, bool audio, long maxOutput)
    {
        try
        {
            long most = checked((promptTokens * (audio ? MostPerAudioPromptToken : MostPerPromptToken)) + (maxOutput * MostPerOutputToken));
            if (promptTokens <= LongContextAbove)
            {
                return most; // the billed prompt is at most this long, so the base prices apply
            }

            return LongContext!.Reserve(promptTokens, audio, maxOutput) is { } tier ? Math.Max(most, tier) : null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static bool TryConvert(decimal perMillion, out long units)
    {
        decimal scaled = perMillion * UnitsPerTokenPerMillion;
        units = 0;
        if (scaled != decimal.Truncate(scaled) || scaled > 100_000_000_000m)
        {
            return false;
        }

        units = decimal.ToInt64(scaled);
        return true;
    }
}
