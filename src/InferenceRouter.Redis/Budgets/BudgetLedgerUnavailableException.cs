namespace InferenceRouter;

/// <summary>A shared budget ledger could not be reached in time; the call is refused rather than made without a budget (fail closed).</summary>
public sealed class BudgetLedgerUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BudgetLedgerUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed and what happens to the call.</param>
    public BudgetLedgerUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What failed and what happens to the call.</param>
    /// <param name="innerException">The Redis error or timeout.</param>
    public BudgetLedgerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
