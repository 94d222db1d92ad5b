using System.Collections.Concurrent;
using System.Globalization;

namespace InferenceRouter;

/// <summary>An exact, in-process <see cref="IBudgetLedger"/>: a lock per account, taken in a fixed order so multi-account reservations are atomic and never deadlock.</summary>
/// <remarks>
/// Amounts are kept to 10 decimal places; a limit is at most <see cref="BudgetUnits.MaxAmount"/> (options refuse more at start). Accounts of calendar windows that have closed are
/// compacted into one total per limit and window (<see cref="GetClosedWindowsAsync"/>, the newest <see cref="InMemoryBudgetLedgerOptions.MaxClosedWindows"/>
/// kept), so memory holds the current windows' accounts, not every day's. Thread-safe. Operations complete synchronously (the <see cref="ValueTask"/>s are already done) and take no global lock, so calls for
/// different tenants never contend. Spend can be kept across restarts with <see cref="InMemoryBudgetLedgerOptions.PersistencePath"/>: the
/// ledger then hands snapshots of its accounts to a persistence of its own (timer, atomic file writes, a lock on the file) and knows
/// nothing of files itself.
/// </remarks>
public sealed class InMemoryBudgetLedger : IBudgetLedger, IDisposable
{
    private readonly ConcurrentDictionary<BudgetAccountKey, BudgetAccountState> _accounts = new();
    private const int RingSize = 16_384;

    // Open reservations sit in a ring slot (id modulo size) until they finish, so finished ones die young; one still open when its slot
    // comes round again (a long call, or an orphan) moves to the overflow queue. Sweeps scan both for expired reservations.
    private readonly Reservation?[] _ring = new Reservation?[RingSize];
    private readonly ConcurrentQueue<Reservation> _overflow = new();
    private readonly InMemoryBudgetLedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly LedgerPersistence? _persistence;
    private readonly Func<BudgetAccountKey, BudgetAccount, BudgetAccountState> _createAccount;
    private readonly ConcurrentDictionary<(string Limit, DateTimeOffset Start), BudgetAccountState.ClosedWindow> _closedWindows = new();
    private StatesOf? _lastStates;
    private long _nextId;
    private long _nextOrder;
    private long _nextSweepTicks;
    private long _expired;
    private int _outstanding;
    private int _sweeping;

    /// <summary>Creates a ledger; with a persistence path, loads the spend saved there.</summary>
    /// <param name="options">Persistence and expiry; defaults keep everything in memory.</param>
    /// <param name="timeProvider">The clock (rolling windows, expiry); <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="InvalidDataException">The persistence file exists but cannot be read.</exception>
    /// <exception cref="InvalidOperationException">The persistence file is in use by another ledger (it is locked while one uses it), or cannot be written.</exception>
    public InMemoryBudgetLedger(InMemoryBudgetLedgerOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new InMemoryBudgetLedgerOptions();
        if (_options.PersistInterval <= TimeSpan.Zero || _options.ExpirySweepInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"PersistInterval ({_options.PersistInterval}) and ExpirySweepInterval ({_options.ExpirySweepInterval}) must be positive.", nameof(options));
        }

        if (_options.MaxClosedWindows < 1)
        {
            throw new ArgumentException($"MaxClosedWindows is {_options.MaxClosedWindows}; keep at least 1 closed-window total (e.g. 1000).", nameof(options));
        }

        _time = timeProvider ?? TimeProvider.System;
        _createAccount = (key, account) => new BudgetAccountState(key, Interlocked.Increment(ref _nextOrder), account.RollingPeriod, account.WindowEnd);
        _nextSweepTicks = _time.GetUtcNow().UtcTicks + _options.ExpirySweepInterval.Ticks;
        if (_options.PersistencePath is { } path)
        {
            _persistence = LedgerPersistence.Open(path, Restore, Snapshot, _options.PersistInterval, _time);
        }
    }

    /// <summary>Gets the number of reservations charged because they were still open when they expired.</summary>
    public long ExpiredReservations => Interlocked.Read(ref _expired);

    /// <summary>Gets the number of reservations granted and not yet settled or released.</summary>
    public int OutstandingReservations => Volatile.Read(ref _outstanding);

    /// <summary>Called under an account's lock after every change, with its new balance (tests check invariants here).</summary>
    internal Action<BudgetAccountBalance>? BalanceChanged { get; set; }

    /// <inheritdoc/>
    public ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        if (accounts.Length == 0)
        {
            throw new ArgumentException("A reservation needs at least one account.", nameof(accounts));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        if (now.UtcTicks >= Volatile.Read(ref _nextSweepTicks))
        {
            Sweep(now);
        }

        // The budget reuses one accounts array per tenant and window: its states were looked up last time (keys checked again).
        var cached = Volatile.Read(ref _lastStates);
        bool reuse = cached is not null && ReferenceEquals(cached.Accounts, accounts) && cached.Matches(accounts);
        var states = reuse ? cached!.States : new BudgetAccountState[accounts.Length];
        long units = BudgetUnits.From(amount);
        Span<int> order = stackalloc int[accounts.Length];
        int locked = 0;
        try
        {
            while (true)
            {
                if (!reuse)
                {
                    for (int i = 0; i < accounts.Length; i++)
                    {
                        states[i] = _accounts.GetOrAdd(accounts[i].Key, _createAccount, accounts[i]);
                    }
                }

                SortByLockOrder(states, order);
                for (; locked < order.Length; locked++)
                {
                    Monitor.Enter(states[order[locked]]);
                }

                if (!AnyCompacted(states))
                {
                    break;
                }

                // A sweep compacted an account between the lookup and the lock (its window had just closed): look it up again.
                while (--locked >= 0)
                {
                    Monitor.Exit(states[order[locked]]);
                }

                locked = 0;
                if (reuse)
                {
                    reuse = false;
                    states = new BudgetAccountState[accounts.Length];
                }
            }

            for (int i = 0; i < states.Length; i++)
            {
                var state = states[i];
                state.SetLimit(accounts[i].Limit);

                // Zero always fits: a free (local) route stays usable even when a budget is spent to the cent.
                if (units > 0 && state.CurrentSpent(now) + state.Reserved + units > state.Limit)
                {
                    return new(new BudgetReservation("denied", accounts, amount, now, expiresAt, state.GetBalance(now), i));
                }
            }

            for (int i = 0; i < states.Length; i++)
            {
                states[i].Reserved += units;
                states[i].Holders++;
                BalanceChanged?.Invoke(states[i].GetBalance(now));
            }
        }
        finally
        {
            while (--locked >= 0)
            {
                Monitor.Exit(states[order[locked]]);
            }
        }

        if (!reuse)
        {
            Volatile.Write(ref _lastStates, new StatesOf(accounts, states));
        }

        long id = Interlocked.Increment(ref _nextId);
        var reservation = new Reservation(this, id, states, accounts, amount, units, now, expiresAt);
        Interlocked.Increment(ref _outstanding);
        if (Interlocked.Exchange(ref _ring[id & (RingSize - 1)], reservation) is { IsOpen: true } displaced)
        {
            _overflow.Enqueue(displaced);
        }

        return new(reservation);
    }

    /// <inheritdoc/>
    public ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default)
    {
        var mine = Own(reservation);
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        long units = BudgetUnits.From(cost);
        BudgetAccountBalance[] balances;
        bool late = false;
        if (mine.TryComplete(Reservation.Settled))
        {
            balances = Apply(mine, units);
        }
        else if (mine.TryFinishExpired(Reservation.Settled))
        {
            // Expiry charged what was reserved; the real cost replaces that charge.
            balances = TrueUp(mine, units);
            late = true;
        }
        else
        {
            return new(new BudgetSettlement(false, []));
        }

        _persistence?.MarkChanged();
        return new(new BudgetSettlement(true, balances, late));
    }

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default)
    {
        var mine = Own(reservation);
        if (mine.TryComplete(Reservation.Released))
        {
            Apply(mine, cost: null);
            return new(true);
        }

        if (mine.TryFinishExpired(Reservation.Released))
        {
            // The call produced nothing after all: refund what expiry charged.
            TrueUp(mine, 0);
            return new(true);
        }

        return new(false);
    }

    /// <summary>Gets the number of accounts kept (closed calendar windows are compacted into <see cref="GetClosedWindowsAsync"/>).</summary>
    public int AccountCount => _accounts.Count;

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BudgetWindowTotal>> GetClosedWindowsAsync(CancellationToken cancellationToken = default)
    {
        var totals = new List<BudgetWindowTotal>(_closedWindows.Count);
        foreach (var window in _closedWindows.Values)
        {
            lock (window)
            {
                totals.Add(window.ToTotal());
            }
        }

        totals.Sort(static (a, b) => b.WindowStart.CompareTo(a.WindowStart) is var byTime and not 0 ? byTime : string.CompareOrdinal(a.Limit, b.Limit));
        return new(totals);
    }

    /// <summary>Compacts every account whose calendar window has closed and that no reservation holds, now (sweeps also do it every minute).</summary>
    /// <returns>How many accounts were compacted.</returns>
    public int CompactClosedWindows()
    {
        var now = _time.GetUtcNow();
        int compacted = 0;
        foreach (var (key, state) in _accounts)
        {
            if (state.WindowEnd is not { } end || end > now)
            {
                continue;
            }

            lock (state)
            {
                if (state.Holders > 0 || state.CompactedInto is not null)
                {
                    continue;
                }

                var closed = _closedWindows.GetOrAdd((key.Limit, key.WindowStart), static k => new BudgetAccountState.ClosedWindow(k.Limit, k.Start));
                lock (closed)
                {
                    closed.Spent += state.Spent;
                    closed.Accounts++;
                }

                state.CompactedInto = closed;
                _accounts.TryRemove(key, out _);
                compacted++;
            }
        }

        if (compacted > 0)
        {
            TrimClosedWindows();
            _persistence?.MarkChanged();
        }

        return compacted;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var balances = new List<BudgetAccountBalance>(_accounts.Count);
        foreach (var state in _accounts.Values)
        {
            lock (state)
            {
                balances.Add(state.GetBalance(now));
            }
        }

        return new(balances);
    }

    /// <summary>Writes spend to <see cref="InMemoryBudgetLedgerOptions.PersistencePath"/> now (atomically: a temporary file, then a rename).</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the file is in place.</returns>
    /// <exception cref="InvalidOperationException">No persistence path is configured.</exception>
    /// <exception cref="ObjectDisposedException">The ledger was disposed (its file is released, possibly to another ledger).</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        (_persistence ?? throw new InvalidOperationException("This ledger has no PersistencePath; set InMemoryBudgetLedgerOptions.PersistencePath to keep spend across restarts."))
            .FlushAsync(cancellationToken);

    /// <summary>Stops the persistence timer, writes spend one last time and releases the file for the next ledger.</summary>
    public void Dispose() => _persistence?.Dispose();

    /// <summary>Copies every account and closed-window total, each under its lock, for the persistence to write.</summary>
    internal LedgerFileDocument Snapshot()
    {
        var now = _time.GetUtcNow();
        var document = new LedgerFileDocument();
        foreach (var state in _accounts.Values)
        {
            lock (state)
            {
                document.Accounts.Add(state.ToFile(now));
            }
        }

        foreach (var window in _closedWindows.Values)
        {
            lock (window)
            {
                (document.ClosedWindows ??= []).Add(new LedgerFileWindowTotal { Limit = window.Limit, WindowStart = window.WindowStart, Spent = BudgetUnits.ToDecimal(window.Spent), Accounts = window.Accounts });
            }
        }

        return document;
    }

    private static bool AnyCompacted(BudgetAccountState[] states)
    {
        foreach (var state in states)
        {
            if (state.CompactedInto is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Keeps the newest <see cref="InMemoryBudgetLedgerOptions.MaxClosedWindows"/> window totals.</summary>
    private void TrimClosedWindows()
    {
        int excess = _closedWindows.Count - _options.MaxClosedWindows;
        if (excess <= 0)
        {
            return;
        }

        foreach (var key in _closedWindows.Keys.OrderBy(k => k.Start).Take(excess))
        {
            _closedWindows.TryRemove(key, out _);
        }
    }

    private static void SortByLockOrder(BudgetAccountState[] states, Span<int> order)
    {
        for (int i = 0; i < states.Length; i++)
        {
            int j = i;
            while (j > 0 && states[order[j - 1]].Order > states[i].Order)
            {
                order[j] = order[j - 1];
                j--;
            }

            order[j] = i;
        }
    }

    private Reservation Own(BudgetReservation reservation)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        if (reservation is not Reservation mine || !ReferenceEquals(mine.Owner, this))
        {
            throw new ArgumentException(
                reservation.IsGranted
                    ? $"Reservation '{reservation.Id}' was not made by this ledger; settle or release it on the ledger that granted it."
                    : "A denied reservation holds nothing; there is nothing to settle or release.",
                nameof(reservation));
        }

        return mine;
    }

    private BudgetAccountBalance[] Apply(Reservation reservation, long? cost, DateTimeOffset now = default)
    {
        Interlocked.Decrement(ref _outstanding);
        var states = reservation.States;

        // Only rolling windows need the clock here; skipping it saves a clock read per settlement.
        for (int i = 0; now == default && i < states.Length; i++)
        {
            if (states[i].RollingTicks != 0)
            {
                now = _time.GetUtcNow();
            }
        }

        var balances = new BudgetAccountBalance[states.Length];
        for (int i = 0; i < states.Length; i++)
        {
            var state = states[i];
            lock (state)
            {
                state.Reserved -= reservation.Units;
                state.Holders--;
                if (cost is { } spent)
                {
                    // Rolling windows count the spend when it settles; calendar windows in the window the call reserved in.
                    state.AddSpent(spent, now);
                }

                balances[i] = state.GetBalance(now);
                BalanceChanged?.Invoke(balances[i]);
            }
        }

        return balances;
    }

    /// <summary>Replaces an expired reservation's charge (its amount) by <paramref name="cost"/> in every account.</summary>
    private BudgetAccountBalance[] TrueUp(Reservation reservation, long cost)
    {
        var now = _time.GetUtcNow();
        var states = reservation.States;
        var balances = new BudgetAccountBalance[states.Length];
        for (int i = 0; i < states.Length; i++)
        {
            var state = states[i];
            lock (state)
            {
                long before = state.Spent;
                if (cost >= reservation.Units)
                {
                    state.AddSpent(cost - reservation.Units, now);
                }
                else
                {
                    state.RemoveSpent(reservation.Units - cost, reservation.ExpiredAt);
                }

                if (state.CompactedInto is { } closed)
                {
                    // The account's window closed and was compacted meanwhile: its total takes the true-up.
                    lock (closed)
                    {
                        closed.Spent += state.Spent - before;
                    }
                }

                balances[i] = state.GetBalance(now);
                BalanceChanged?.Invoke(balances[i]);
            }
        }

        _persistence?.MarkChanged();
        return balances;
    }

    /// <summary>Charges expired reservations what they hold and forgets finished ones; one sweep at a time, the others carry on.</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
        {
            return;
        }

        try
        {
            Volatile.Write(ref _nextSweepTicks, now.UtcTicks + _options.ExpirySweepInterval.Ticks);
            foreach (var reservation in _ring)
            {
                Expire(reservation, now);
            }

            for (int i = _overflow.Count; i > 0 && _overflow.TryDequeue(out var reservation); i--)
            {
                if (!Expire(reservation, now) && reservation.IsOpen)
                {
                    _overflow.Enqueue(reservation);
                }
            }

            CompactClosedWindows();
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private bool Expire(Reservation? reservation, DateTimeOffset now)
    {
        if (reservation is null || reservation.ExpiresAt > now || !reservation.TryComplete(Reservation.Expiring))
        {
            return false;
        }

        // Never into nothing: the call may still be running (and billing), so what it reserved becomes a charge until it settles.
        reservation.ExpiredAt = now;
        Apply(reservation, cost: reservation.Units, now);
        reservation.MarkExpired();
        Interlocked.Increment(ref _expired);
        _persistence?.MarkChanged();
        return true;
    }

    /// <summary>Takes back the spend of a snapshot (at startup, before any reservation).</summary>
    private void Restore(LedgerFileDocument document)
    {
        foreach (var window in document.ClosedWindows ?? [])
        {
            var closed = _closedWindows.GetOrAdd((window.Limit, window.WindowStart), static k => new BudgetAccountState.ClosedWindow(k.Limit, k.Start));
            closed.Spent = BudgetUnits.From(window.Spent);
            closed.Accounts = window.Accounts;
        }

        foreach (var account in document.Accounts ?? [])
        {
            var key = new BudgetAccountKey(account.Limit, account.ScopeValue, account.WindowStart);
            var state = _accounts.GetOrAdd(key, _createAccount, new BudgetAccount(key, 0, TimeSpan.FromTicks(account.RollingTicks), account.WindowEnd));
            lock (state)
            {
                state.Restore(account);
            }
        }
    }

    /// <summary>A reservation granted by this ledger, with the accounts it holds and whether it is still open.</summary>
    private sealed class Reservation(InMemoryBudgetLedger owner, long sequence, BudgetAccountState[] states, BudgetAccount[] accounts, decimal amount, long units, DateTimeOffset createdAt, DateTimeOffset expiresAt)
        : BudgetReservation(accounts, amount, createdAt, expiresAt)
    {
        public const int Open = 0, Settled = 1, Released = 2, Expired = 3, Expiring = 4;
        private int _state;

        public InMemoryBudgetLedger Owner { get; } = owner;

        public long Sequence { get; } = sequence;

        public BudgetAccountState[] States { get; } = states;

        public long Units { get; } = units;

        public bool IsOpen => Volatile.Read(ref _state) == Open;

        /// <summary>Gets or sets when expiry charged it (rolling windows take a late true-up from that slot).</summary>
        public DateTimeOffset ExpiredAt { get; set; }

        public void MarkExpired() => Volatile.Write(ref _state, Expired);

        /// <summary>Moves an expired reservation to its final state (settled or released late), once; waits out an expiry under way.</summary>
        public bool TryFinishExpired(int state)
        {
            var spin = default(SpinWait);
            while (Volatile.Read(ref _state) == Expiring)
            {
                spin.SpinOnce();
            }

            return Interlocked.CompareExchange(ref _state, state, Expired) == Expired;
        }

        public bool TryComplete(int state)
        {
            if (Interlocked.CompareExchange(ref _state, state, Open) != Open)
            {
                return false;
            }

            Interlocked.CompareExchange(ref Owner._ring[Sequence & (RingSize - 1)], null, this);
            return true;
        }

        protected override string CreateId() => Sequence.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The account states last resolved for one accounts array (callers may reuse an array; its keys are checked again).</summary>
    private sealed class StatesOf(BudgetAccount[] accounts, BudgetAccountState[] states)
    {
        public BudgetAccount[] Accounts { get; } = accounts;

        public BudgetAccountState[] States { get; } = states;

        public bool Matches(BudgetAccount[] accounts)
        {
            for (int i = 0; i < accounts.Length; i++)
            {
                if (accounts[i].Key != States[i].Key)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
