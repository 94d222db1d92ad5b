namespace InferenceRouter;

/// <summary>
/// A call named no tenant under a limit scoped to every tenant while <see cref="BudgetOptions.UnknownTenant"/> is
/// <see cref="UnknownTenantPolicy.Reject"/>. Internal: callers see an <see cref="InvalidOperationException"/>; the type only keeps the router
/// from trying another route, where the same limit applies.
/// </summary>
internal sealed class UnknownTenantException(BudgetLimit limit) : InvalidOperationException(
    $"The call names no tenant, and budget limit '{limit.DisplayName}' is scoped to every tenant, so it cannot be checked. " +
    "Name the tenant (ChatOptions.ForTenant(...)), or choose what tenant-less calls do: " +
    "InferenceRouter:Budgets:UnknownTenant = SharedAccount (all of them share one account of each tenant limit) or Allow (tenant limits do not check them).")
{
    /// <summary>Gets the limit that could not be checked.</summary>
    public BudgetLimit Limit { get; } = limit;
}
