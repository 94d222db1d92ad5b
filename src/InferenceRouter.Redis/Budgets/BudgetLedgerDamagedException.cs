namespace InferenceRouter;

/// <summary>
/// A record of the shared ledger in Redis cannot be used: an account or reservation with a field that is not an integer, or a key of
/// the wrong type (written by hand, by another program, or by an old bug). Only the calls that touch it fail with this; the rest of the
/// ledger goes on.
/// </summary>
internal sealed class BudgetLedgerDamagedException(string message) : InvalidOperationException(message);
