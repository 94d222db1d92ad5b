namespace InferenceRouter;

/// <summary>One account a reservation must fit: its key, its limit, and for rolling windows the window's length.</summary>
/// <param name="Key">The account.</param>
/// <param name="Limit">The most the account may hold (spent plus reserved).</param>
/// <param name="RollingPeriod">The length of a rolling window; zero for lifetime and calendar windows.</param>
/// <param name="WindowEnd">When a calendar window closes (after which a ledger may compact the account into a window total); null for lifetime and rolling windows.</param>
public readonly record struct BudgetAccount(BudgetAccountKey Key, decimal Limit, TimeSpan RollingPeriod, DateTimeOffset? WindowEnd = null);
