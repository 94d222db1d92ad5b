namespace InferenceRouter;

/// <summary>
/// The fixed-point amounts every ledger keeps: 1 unit = 10⁻¹⁰ of the currency, in a <see langword="long"/>. Integer arithmetic is exact
/// and several times cheaper than <see langword="decimal"/>. A limit is at most <see cref="MaxAmount"/> (options refuse more at start), so
/// spent + reserved + a reservation never overflows a <see langword="long"/>. A ledger of another package (Redis) stores the same units, so
/// every ledger rounds alike.
/// </summary>
public static class BudgetUnits
{
    /// <summary>The units that stand for "no limit", and the most any amount converts to (a sum of three never overflows).</summary>
    public const long Unlimited = long.MaxValue / 8;

    /// <summary>The largest limit a budget accepts, in the currency (10¹⁸ units, below <see cref="Unlimited"/>): 100 million.</summary>
    public const decimal MaxAmount = 100_000_000m;

    /// <summary>The decimal places amounts are rounded to (one unit).</summary>
    public const int Decimals = 10;
    private const decimal PerCurrencyUnit = 10_000_000_000m;

    /// <summary>Converts an amount (extra decimals beyond the tenth are cut, as the budget rounds to ten already).</summary>
    /// <param name="amount">The amount, in the currency.</param>
    /// <returns>The units, exact up to <see cref="MaxAmount"/>; <see cref="Unlimited"/> above it (a cost or estimate that large saturates rather than overflows).</returns>
    public static long From(decimal amount) => amount > MaxAmount ? Unlimited : decimal.ToInt64(amount * PerCurrencyUnit);

    /// <summary>Converts back without arithmetic: the units are the decimal's mantissa at scale 10.</summary>
    /// <param name="units">The units.</param>
    /// <returns>The amount, in the currency.</returns>
    public static decimal ToDecimal(long units)
    {
        bool negative = units < 0;
        ulong magnitude = negative ? (ulong)-units : (ulong)units;
        return new decimal(unchecked((int)magnitude), unchecked((int)(magnitude >> 32)), 0, negative, 10);
    }
}
