using System.Runtime.CompilerServices;

namespace InferenceRouter;

/// <summary>
/// The outcome of asking a ledger to hold an amount in several accounts at once: granted in all of them, or denied with the account that
/// did not fit. A granted reservation must be settled or released exactly once; doing either again is a no-op.
/// </summary>
/// <remarks>Ledgers may derive from this type to keep their own state; a ledger refuses reservations it did not make.</remarks>
public class BudgetReservation
{
    /// <summary>Creates a reservation outcome.</summary>
    /// <param name="id">A unique id (remote ledgers settle by id, idempotently).</param>
    /// <param name="accounts">The accounts the amount is held in.</param>
    /// <param name="amount">The amount held in each account.</param>
    /// <param name="createdAt">When it was made.</param>
    /// <param name="expiresAt">When the ledger may release it if it is never settled (an orphan).</param>
    /// <param name="denied">For a denial: the balance of the account that did not fit; null when granted.</param>
    /// <param name="deniedIndex">For a denial: the index of that account in <paramref name="accounts"/>.</param>
    public BudgetReservation(string id, IReadOnlyList<BudgetAccount> accounts, decimal amount, DateTimeOffset createdAt, DateTimeOffset expiresAt, BudgetAccountBalance? denied = null, int deniedIndex = -1)
        : this(accounts, amount, createdAt, expiresAt, denied, deniedIndex)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        _id = id;
    }

    /// <summary>Creates a reservation whose <see cref="Id"/> the derived ledger makes on first use (<see cref="CreateId"/>), keeping the hot path free of string formatting.</summary>
    /// <param name="accounts">The accounts the amount is held in.</param>
    /// <param name="amount">The amount held in each account.</param>
    /// <param name="createdAt">When it was made.</param>
    /// <param name="expiresAt">When the ledger charges it if it is still open.</param>
    /// <param name="denied">For a denial: the balance of the account that did not fit.</param>
    /// <param name="deniedIndex">For a denial: the index of that account.</param>
    protected BudgetReservation(IReadOnlyList<BudgetAccount> accounts, decimal amount, DateTimeOffset createdAt, DateTimeOffset expiresAt, BudgetAccountBalance? denied = null, int deniedIndex = -1)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        Accounts = accounts;
        Amount = amount;
        CreatedAt = createdAt;
        ExpiresAt = expiresAt;
        _denied = denied is { } balance ? new StrongBox<BudgetAccountBalance>(balance) : null;
        DeniedIndex = deniedIndex;
    }

    private readonly StrongBox<BudgetAccountBalance>? _denied; // boxed: granted reservations (the hot path) stay small
    private string? _id;

    /// <summary>Gets the reservation's id.</summary>
    public string Id => _id ??= CreateId();

    /// <summary>Gets the accounts.</summary>
    public IReadOnlyList<BudgetAccount> Accounts { get; }

    /// <summary>Gets the amount held in each account.</summary>
    public decimal Amount { get; }

    /// <summary>Gets when it was made.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets when the ledger charges it the amount it holds if it is still open.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Gets a value indicating whether the amount is held in every account.</summary>
    public bool IsGranted => _denied is null;

    /// <summary>Gets the balance of the account that did not fit, for a denial.</summary>
    public BudgetAccountBalance? Denied => _denied?.Value;

    /// <summary>Gets the index in <see cref="Accounts"/> of the account that did not fit, or -1.</summary>
    public int DeniedIndex { get; }

    /// <summary>Makes the id of a reservation created without one.</summary>
    /// <returns>The id.</returns>
    protected virtual string CreateId() => throw new InvalidOperationException("A reservation created without an id must override CreateId.");
}
