namespace InferenceRouter.Tests;

/// <summary>Counts, inside the ledger and on every change, the times an account held more than its limit.</summary>
internal sealed class LedgerInvariant
{
    private int _violations;

    private LedgerInvariant(InMemoryBudgetLedger ledger) => ledger.BalanceChanged = b =>
    {
        if (b.Spent + b.Reserved > b.Limit)
        {
            Interlocked.Increment(ref _violations);
        }
    };

    public int Violations => Volatile.Read(ref _violations);

    public static LedgerInvariant Watch(InMemoryBudgetLedger ledger) => new(ledger);
}
