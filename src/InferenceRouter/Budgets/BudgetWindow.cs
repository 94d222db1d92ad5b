namespace InferenceRouter;

/// <summary>The period a budget limit's spend is counted in.</summary>
public enum BudgetWindow
{
    /// <summary>All time: spend never resets.</summary>
    Lifetime,

    /// <summary>A calendar day in the budget's time zone (UTC unless configured).</summary>
    Day,

    /// <summary>A calendar month in the budget's time zone (UTC unless configured).</summary>
    Month,

    /// <summary>The last <see cref="BudgetLimit.RollingHours"/> hours, sliding.</summary>
    Rolling,
}
