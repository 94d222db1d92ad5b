namespace InferenceRouter;

/// <summary>
/// A route's prices per token in <see cref="BudgetUnits"/> (10⁻¹⁰ of the currency), when every price is a whole number of units
/// (four decimals per million tokens: true of every list price we know). Estimates and costs are then integer arithmetic, several
/// times cheaper than <see langword="decimal"/> and exactly equal to it.
/// </summary>
internal readonly record struct UnitPrices(long Input, long CachedInput, long Output, long Reasoning)
{
    private const decimal UnitsPerTokenPerMillion = 10_000m; // 10¹⁰ units per currency unit ÷ 10⁶ tokens

    public static UnitPrices? From(RoutePricing pricing) =>
        TryConvert(pricing.InputPerMillion, out long input) && TryConvert(pricing.EffectiveCachedInputPerMillion, out long cached) &&
        TryConvert(pricing.OutputPerMillion, out long output) && TryConvert(pricing.EffectiveReasoningPerMillion, out long reasoning)
            ? new UnitPrices(input, cached, output, reasoning)
            : null;

    /// <summary>The cost of these token counts, or null when it would overflow (the caller falls back to decimals).</summary>
    public long? Cost(long input, long cached, long output, long reasoning)
    {
        try
        {
            return checked((input * Input) + (cached * CachedInput) + (output * Output) + (reasoning * Reasoning));
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
