namespace InferenceRouter.Tests;

/// <summary>
/// Counts, inside the ledger and on every change, the times an account held more than its limit, and (given a floor: what the provider
/// has billed so far) the times what it holds, spent and reserved, was below that floor.
/// </summary>
internal sealed class LedgerInvariant
{
    private int _violations;
    private int _belowFloor;

    private LedgerInvariant(InMemoryBudgetLedger ledger, Func<BudgetAccountBalance, decimal?>? floor) => ledger.BalanceChanged = b =>
    {
        if (b.Spent + b.Reserved > b.Limit)
        {
            Interlocked.Increment(ref _violations);
        }

        // Under the account's lock: a call billed now was reserved before, so its hold is in this balance.
        if (floor?.Invoke(b) is { } billed && b.Spent + b.Reserved < billed)
        {
            Interlocked.Increment(ref _belowFloor);
        }
    };

    public int Violations => Volatile.Read(ref _violations);

    /// <summary>Gets the times an account held less than its floor.</summary>
    public int BelowFloor => Volatile.Read(ref _belowFloor);

    /// <summary>Watches <paramref name="ledger"/>; <paramref name="floor"/> gives an account's floor (null: none).</summary>
    public static LedgerInvariant Watch(InMemoryBudgetLedger ledger, Func<BudgetAccountBalance, decimal?>? floor = null) => new(ledger, floor);
}
