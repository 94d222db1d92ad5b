namespace InferenceRouter;

/// <summary>
/// What a tenant-scoped limit that applies to every tenant (<see cref="BudgetScope.Tenant"/> without a <see cref="BudgetLimit.Key"/>) does
/// with a call that names no tenant. A limit keyed to one tenant never applies to a tenant-less call, whatever the policy.
/// </summary>
public enum UnknownTenantPolicy
{
    /// <summary>Refuse the call: it fails with an <see cref="InvalidOperationException"/> naming the limit and the fix, before any provider is called.</summary>
    Reject,

    /// <summary>Charge every tenant-less call to one shared account of each such limit, named <c>%(no tenant)</c> (no tenant id can name it).</summary>
    SharedAccount,

    /// <summary>Leave tenant-less calls unchecked by tenant-scoped limits (other limits still apply); startup logs a warning.</summary>
    Allow,
}
