namespace InferenceRouter;

/// <summary>
/// Keeps what each budget account has spent and reserved, and reserves atomically across accounts: a reservation is held in every
/// account or in none, and an account never holds more than its limit through reservations.
/// </summary>
/// <remarks>
/// Implementations must be thread-safe. <see cref="InMemoryBudgetLedger"/> is exact within one process; a shared (Redis) ledger keeps the
/// same contract across processes: reservations carry ids, settling and releasing are idempotent, and reservations never settled
/// expire at <see cref="BudgetReservation.ExpiresAt"/> so a crashed caller cannot hold budget forever.
/// </remarks>
public interface IBudgetLedger
{
    /// <summary>Holds <paramref name="amount"/> in every account if each one's spent + reserved + amount stays within its limit; else nothing.</summary>
    /// <param name="accounts">The accounts (at least one).</param>
    /// <param name="amount">The amount to hold; zero or more. Zero always fits.</param>
    /// <param name="expiresAt">When an orphaned reservation may be released.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A granted reservation, or a denied one naming the account that did not fit.</returns>
    ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Replaces the reservation by the real cost in every account. Settling twice (or after a release) changes nothing.</summary>
    /// <param name="reservation">A granted reservation from this ledger.</param>
    /// <param name="cost">The real cost; zero or more. It may exceed the reservation (then the account may end above its limit).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether it applied, and the balances after it.</returns>
    ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default);

    /// <summary>Gives the reserved amount back in every account. Releasing twice (or after a settle) changes nothing.</summary>
    /// <param name="reservation">A granted reservation from this ledger.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> when it released something.</returns>
    ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default);

    /// <summary>Reads every account's balance (current windows and older ones still kept).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The balances.</returns>
    ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default);
}
