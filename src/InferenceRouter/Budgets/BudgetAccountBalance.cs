namespace InferenceRouter;

/// <summary>An account's state at one moment.</summary>
/// <param name="Key">The account.</param>
/// <param name="Limit">Its limit (as last requested).</param>
/// <param name="Spent">What settled calls cost in the window.</param>
/// <param name="Reserved">What calls in flight have reserved.</param>
public readonly record struct BudgetAccountBalance(BudgetAccountKey Key, decimal Limit, decimal Spent, decimal Reserved)
{
    /// <summary>Gets what is left: the limit minus spent and reserved (negative when overspent by a call that cost more than reserved).</summary>
    public decimal Remaining => Limit - Spent - Reserved;
}
