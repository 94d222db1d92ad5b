namespace InferenceRouter;

/// <summary>
/// A ledger that can take over a reservation made elsewhere: what <see cref="FailOpenBudgetLedger"/> needs of the ledger it wraps, to
/// hand it what was reserved, settled and released locally while it was unreachable.
/// </summary>
internal interface IAdoptingBudgetLedger : IBudgetLedger
{
    /// <summary>
    /// Applies one step of a reservation made elsewhere: the reservation becomes one of this ledger's (charged at its expiry unless
    /// finished), with the record's settlement or release if it has one. Applying a record again, or an older step of the same
    /// reservation after a newer one, changes nothing.
    /// </summary>
    /// <param name="record">The step, carrying the whole reservation.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes once the ledger has the step.</returns>
    /// <exception cref="BudgetLedgerUnavailableException">The ledger did not answer; the step is not applied, or applied once later.</exception>
    Task AdoptAsync(FailOpenRecord record, CancellationToken cancellationToken);
}
