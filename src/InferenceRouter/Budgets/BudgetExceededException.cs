namespace InferenceRouter;

/// <summary>A call's worst-case cost does not fit a budget limit: the message names the limit, the window, what is spent and reserved, and the estimate.</summary>
public sealed class BudgetExceededException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="limit">The limit that did not fit.</param>
    /// <param name="balance">The account's balance when it did not fit.</param>
    /// <param name="estimate">The call's worst-case cost.</param>
    /// <param name="route">The route the estimate was for, if any.</param>
    /// <param name="currency">The currency of the amounts.</param>
    public BudgetExceededException(BudgetLimit limit, BudgetAccountBalance balance, decimal estimate, string? route, string currency = "USD")
        : base(Describe(limit, balance, estimate, route, currency))
    {
        ArgumentNullException.ThrowIfNull(limit);
        LimitName = limit.DisplayName;
        Scope = limit.Scope;
        ScopeValue = balance.Key.ScopeValue;
        Window = limit.Window;
        WindowStart = balance.Key.WindowStart;
        Enforcement = limit.Enforcement;
        Limit = balance.Limit;
        Spent = balance.Spent;
        Reserved = balance.Reserved;
        Estimate = estimate;
        Route = route;
    }

    /// <summary>Gets the limit's name.</summary>
    public string LimitName { get; }

    /// <summary>Gets the limit's scope.</summary>
    public BudgetScope Scope { get; }

    /// <summary>Gets the tenant, user, route, model or tag counted (empty for global).</summary>
    public string ScopeValue { get; }

    /// <summary>Gets the limit's window.</summary>
    public BudgetWindow Window { get; }

    /// <summary>Gets the start of the calendar window (the Unix epoch for lifetime and rolling windows).</summary>
    public DateTimeOffset WindowStart { get; }

    /// <summary>Gets how the limit is enforced.</summary>
    public BudgetEnforcement Enforcement { get; }

    /// <summary>Gets the limit's amount.</summary>
    public decimal Limit { get; }

    /// <summary>Gets what settled calls had spent.</summary>
    public decimal Spent { get; }

    /// <summary>Gets what calls in flight had reserved.</summary>
    public decimal Reserved { get; }

    /// <summary>Gets the call's worst-case cost.</summary>
    public decimal Estimate { get; }

    /// <summary>Gets the route the estimate was for; null without a router.</summary>
    public string? Route { get; }

    private static string Describe(BudgetLimit limit, BudgetAccountBalance balance, decimal estimate, string? route, string currency)
    {
        ArgumentNullException.ThrowIfNull(limit);
        var who = balance.Key.ScopeValue.Length == 0 ? limit.Scope.ToString().ToLowerInvariant() : $"{limit.Scope.ToString().ToLowerInvariant()} '{balance.Key.ScopeValue}'";
        var window = limit.Window switch
        {
            BudgetWindow.Day => $"day starting {balance.Key.WindowStart:yyyy-MM-dd HH:mm}Z",
            BudgetWindow.Month => $"month starting {balance.Key.WindowStart:yyyy-MM-dd HH:mm}Z",
            BudgetWindow.Rolling => $"last {limit.RollingHours:G} hours",
            _ => "lifetime",
        };
        return $"Budget '{limit.DisplayName}' ({who}, {window}) cannot take this call{(route is null ? string.Empty : $" on route '{route}'")}: " +
            $"limit {balance.Limit:0.######} {currency}, spent {balance.Spent:0.######}, reserved by calls in flight {balance.Reserved:0.######}, " +
            $"this call's worst case {estimate:0.######}. Lower MaxOutputTokens{(limit.Window == BudgetWindow.Lifetime ? string.Empty : ", wait for the window to roll over")} or raise the limit.";
    }
}
