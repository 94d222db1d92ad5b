namespace InferenceRouter;

/// <summary>The JSON shape of a persisted <see cref="InMemoryBudgetLedger"/>.</summary>
internal sealed class LedgerFileDocument
{
    public int Version { get; set; } = 1;

    public List<LedgerFileAccount> Accounts { get; set; } = [];
}

/// <summary>One persisted account: its key, what it spent, and for rolling windows its spend per time slot.</summary>
internal sealed class LedgerFileAccount
{
    public string Limit { get; set; } = string.Empty;

    public string ScopeValue { get; set; } = string.Empty;

    public DateTimeOffset WindowStart { get; set; }

    public decimal Spent { get; set; }

    public long RollingTicks { get; set; }

    public List<LedgerFileSlot>? Slots { get; set; }
}

/// <summary>Spend in one time slot of a rolling window.</summary>
internal sealed class LedgerFileSlot
{
    public long Slot { get; set; }

    public decimal Amount { get; set; }
}
