namespace InferenceRouter;

/// <summary>
/// Keeps what each budget account has spent and reserved, and reserves atomically across accounts: a reservation is held in every
/// account or in none, and an account never holds more than its limit through reservations.
/// </summary>
/// <remarks>
/// Implementations must be thread-safe. <see cref="InMemoryBudgetLedger"/> is exact within one process; a shared (Redis) ledger keeps the
/// same contract across processes: reservations carry ids, settling and releasing are idempotent, and a reservation still open at
/// <see cref="BudgetReservation.ExpiresAt"/> is charged the amount it holds (never dropped: a call that outlived it may have been billed),
/// so a crashed caller cannot hold budget forever and spend is never lost. A settlement after expiry replaces that charge with the real cost
/// (<see cref="BudgetSettlement.Late"/>); a release after expiry refunds it.
/// </remarks>
public interface IBudgetLedger
{
    /// <summary>Holds <paramref name="amount"/> in every account if each one's spent + reserved + amount stays within its limit; else nothing.</summary>
    /// <param name="accounts">The accounts (at least one).</param>
    /// <param name="amount">The amount to hold; zero or more. Zero always fits.</param>
    /// <param name="expiresAt">When a reservation still open is charged the amount it holds.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A granted reservation, or a denied one naming the account that did not fit.</returns>
    ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Replaces the reservation (or, after expiry, its charge) by the real cost in every account. Settling twice (or after a release) changes nothing.</summary>
    /// <param name="reservation">A granted reservation from this ledger.</param>
    /// <param name="cost">The real cost; zero or more. It may exceed the reservation (then the account may end above its limit).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether it applied, and the balances after it.</returns>
    ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default);

    /// <summary>Gives the reserved amount (or, after expiry, its charge) back in every account. Releasing twice (or after a settle) changes nothing.</summary>
    /// <param name="reservation">A granted reservation from this ledger.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> when it released something.</returns>
    ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default);

    /// <summary>Reads every account's balance (current windows and older ones still kept).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The balances.</returns>
    ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the totals of closed calendar windows whose accounts were compacted; none by default.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The totals, newest window first.</returns>
    ValueTask<IReadOnlyList<BudgetWindowTotal>> GetClosedWindowsAsync(CancellationToken cancellationToken = default) => new([]);
}
