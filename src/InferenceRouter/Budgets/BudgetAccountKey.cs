namespace InferenceRouter;

/// <summary>Identifies one budget account: a limit, the scope value it counts (a tenant, a route…), and the window.</summary>
/// <param name="Limit">The limit's <see cref="BudgetLimit.DisplayName"/>.</param>
/// <param name="ScopeValue">The tenant, user, route, model or tag counted; empty for global limits.</param>
/// <param name="WindowStart">The start of the calendar window; the Unix epoch for lifetime and rolling windows.</param>
public readonly record struct BudgetAccountKey(string Limit, string ScopeValue, DateTimeOffset WindowStart)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Limit}{(ScopeValue.Length == 0 ? string.Empty : $" [{ScopeValue}]")}{(WindowStart == DateTimeOffset.UnixEpoch ? string.Empty : $" from {WindowStart:yyyy-MM-dd HH:mm}Z")}";
}
