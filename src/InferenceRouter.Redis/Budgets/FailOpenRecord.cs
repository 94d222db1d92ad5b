namespace InferenceRouter;

/// <summary>
/// One step of a reservation made in the local ledger while Redis was unreachable (fail open): its making (no outcome yet), its
/// settlement (<paramref name="Cost"/>) or its release. Each record carries the whole reservation, so any one of them, sent alone
/// and any number of times, brings Redis to the same state.
/// </summary>
/// <param name="Id">The reservation id (<c>offline-…</c>).</param>
/// <param name="Accounts">Its accounts, with their shared limits.</param>
/// <param name="Amount">What it holds until it is finished, and what its expiry charges.</param>
/// <param name="ExpiresAt">When it expires.</param>
/// <param name="Cost">What it settled for; null while open or when released.</param>
/// <param name="Released">Whether it was released.</param>
internal sealed record FailOpenRecord(string Id, BudgetAccount[] Accounts, decimal Amount, DateTimeOffset ExpiresAt, decimal? Cost = null, bool Released = false);
