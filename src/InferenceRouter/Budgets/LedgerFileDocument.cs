namespace InferenceRouter;

/// <summary>The JSON shape of a persisted <see cref="InMemoryBudgetLedger"/>.</summary>
internal sealed class LedgerFileDocument
{
    public int Version { get; set; } = 1;

    public List<LedgerFileAccount> Accounts { get; set; } = [];

    public List<LedgerFileWindowTotal>? ClosedWindows { get; set; }
}

/// <summary>One persisted closed-window total.</summary>
internal sealed class LedgerFileWindowTotal
{
    public string Limit { get; set; } = string.Empty;

    public DateTimeOffset WindowStart { get; set; }

    public decimal Spent { get; set; }

    public int Accounts { get; set; }
}

/// <summary>One persisted account: its key, what it spent, and for rolling windows its spend per time slot.</summary>
internal sealed class LedgerFileAccount
{
    public string Limit { get; set; } = string.Empty;

    public string ScopeValue { get; set; } = string.Empty;

    public DateTimeOffset WindowStart { get; set; }

    public decimal Spent { get; set; }

    public long RollingTicks { get; set; }

    public DateTimeOffset? WindowEnd { get; set; }

    public List<LedgerFileSlot>? Slots { get; set; }
}

/// <summary>Spend in one time slot of a rolling window.</summary>
internal sealed class LedgerFileSlot
{
    public long Slot { get; set; }

    public decimal Amount { get; set; }
}
