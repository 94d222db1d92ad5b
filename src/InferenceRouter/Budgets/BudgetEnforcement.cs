namespace InferenceRouter;

/// <summary>What happens to a call whose worst-case cost does not fit a limit.</summary>
public enum BudgetEnforcement
{
    /// <summary>The call fails with <see cref="BudgetExceededException"/>.</summary>
    Reject,

    /// <summary>
    /// Under a router, routes whose estimate does not fit are skipped and a cheaper (or local, free) one answers; the call fails with
    /// <see cref="BudgetExceededException"/> only when no candidate fits. Without a router there is nothing to downgrade to, so it rejects.
    /// </summary>
    Downgrade,
}
