namespace InferenceRouter;

/// <summary>What one limit's accounts spent in one calendar window that has closed: kept for reports after the accounts are compacted.</summary>
/// <param name="Limit">The limit's <see cref="BudgetLimit.DisplayName"/>.</param>
/// <param name="WindowStart">The start of the closed window.</param>
/// <param name="Spent">What its accounts spent in total.</param>
/// <param name="Accounts">How many accounts (tenants, users…) spent in it.</param>
public readonly record struct BudgetWindowTotal(string Limit, DateTimeOffset WindowStart, decimal Spent, int Accounts);
