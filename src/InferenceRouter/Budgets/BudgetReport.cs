namespace InferenceRouter;

/// <summary>A snapshot of spend: every account's balance and what each route cost.</summary>
/// <param name="At">When it was taken.</param>
/// <param name="Currency">The currency of every amount.</param>
/// <param name="Accounts">Every account, per limit, scope value and window.</param>
/// <param name="Routes">Spend per route since the budget started (this process).</param>
public sealed record BudgetReport(DateTimeOffset At, string Currency, IReadOnlyList<BudgetAccountBalance> Accounts, IReadOnlyList<RouteSpend> Routes)
{
    /// <summary>Gets the totals of calendar windows that have closed, whose accounts the ledger compacted (newest first).</summary>
    public IReadOnlyList<BudgetWindowTotal> ClosedWindows { get; init; } = [];

    /// <summary>Gets the total cost over every route.</summary>
    public decimal TotalCost => Routes.Sum(r => r.Cost);
}
