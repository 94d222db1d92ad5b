namespace InferenceRouter;

/// <summary>A budget account's spend crossed one of the configured thresholds (<see cref="BudgetOptions.Thresholds"/>).</summary>
/// <param name="limit">The limit.</param>
/// <param name="balance">The account's balance after the call that crossed.</param>
/// <param name="threshold">The highest threshold crossed, as a fraction of the limit.</param>
public sealed class BudgetThresholdEventArgs(BudgetLimit limit, BudgetAccountBalance balance, double threshold) : EventArgs
{
    /// <summary>Gets the limit.</summary>
    public BudgetLimit Limit { get; } = limit;

    /// <summary>Gets the account's balance.</summary>
    public BudgetAccountBalance Balance { get; } = balance;

    /// <summary>Gets the threshold crossed (0.8 = 80% of the limit).</summary>
    public double Threshold { get; } = threshold;
}
