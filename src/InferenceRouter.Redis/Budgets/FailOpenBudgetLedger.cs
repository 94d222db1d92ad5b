using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>
/// Fails open around a shared ledger: when the inner ledger throws <see cref="BudgetLedgerUnavailableException"/>, reservations are made
/// in a local <see cref="InMemoryBudgetLedger"/> where each account may hold at most the cap; each of their steps (reservation, then
/// settlement or release) is written to the <see cref="FailOpenQueue"/> before the call goes on, and sent to the inner ledger, in order
/// and each once, as soon as it answers again. A settlement or release of one of the inner ledger's own reservations that cannot reach
/// it is queued the same way, so the real cost replaces its expiry charge.
/// </summary>
/// <remarks>
/// A resilience strategy of its own (as Polly's fallback is not a flag inside retry): the inner ledger knows nothing of failing open.
/// Sending runs every 5 s, after each fail-open settlement or release, and on <see cref="SendPendingAsync"/>; one send at a time.
/// Thread-safe.
/// </remarks>
internal sealed class FailOpenBudgetLedger : IBudgetLedger, IDisposable
{
    private static readonly TimeSpan SendInterval = TimeSpan.FromSeconds(5);
    private readonly IAdoptingBudgetLedger _inner;
    private readonly decimal _cap;
    private readonly FailOpenQueue _pending;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisBudgetTelemetry _telemetry;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ITimer _sendTimer;
    private volatile InMemoryBudgetLedger _offline;
    private int _failingOpen;

    /// <summary>Wraps <paramref name="inner"/>; sends what <paramref name="pending"/> already holds (a previous process's journal) as soon as it answers.</summary>
    /// <param name="inner">The shared ledger.</param>
    /// <param name="cap">What each account may hold on this instance while the inner ledger is unreachable.</param>
    /// <param name="pending">The steps still to send, owned from now on (disposed with this ledger).</param>
    /// <param name="timeProvider">The clock of the local ledger and of the send timer.</param>
    /// <param name="logger">Logs failing open and reconciling.</param>
    /// <param name="telemetry">Counts reservations admitted while open and steps sent afterwards.</param>
    public FailOpenBudgetLedger(IAdoptingBudgetLedger inner, decimal cap, FailOpenQueue pending, TimeProvider timeProvider, ILogger logger, RedisBudgetTelemetry telemetry)
    {
        _inner = inner;
        _cap = cap;
        _pending = pending;
        _time = timeProvider;
        _logger = logger;
        _telemetry = telemetry;
        _offline = new InMemoryBudgetLedger(timeProvider: _time);
        _sendTimer = _time.CreateTimer(static state => _ = ((FailOpenBudgetLedger)state!).SendPendingQuietlyAsync(), this, TimeSpan.Zero, SendInterval);
    }

    /// <summary>Gets how many steps made while failing open are still to be sent, including those read back from the journal.</summary>
    public int PendingSteps => _pending.Count;

    /// <inheritdoc/>
    public async ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _inner.ReserveAsync(accounts, amount, expiresAt, cancellationToken).ConfigureAwait(false);
        }
        catch (BudgetLedgerUnavailableException)
        {
            return await ReserveOfflineAsync(_offline, accounts, amount, expiresAt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        if (reservation is OfflineReservation offline)
        {
            var settled = await offline.Ledger.SettleAsync(offline.Inner, cost, cancellationToken).ConfigureAwait(false);
            if (settled.Applied)
            {
                Record(offline.Record with { Cost = cost });
            }

            return settled;
        }

        try
        {
            return await _inner.SettleAsync(reservation, cost, cancellationToken).ConfigureAwait(false);
        }
        catch (BudgetLedgerUnavailableException)
        {
            // The real cost is journaled and replaces the reservation's expiry charge once the inner ledger answers.
            Record(new FailOpenRecord(reservation.Id, [.. reservation.Accounts], reservation.Amount, reservation.ExpiresAt, Cost: cost));
            return new BudgetSettlement(true, []);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default)
    {
        if (reservation is OfflineReservation offline)
        {
            bool released = await offline.Ledger.ReleaseAsync(offline.Inner, cancellationToken).ConfigureAwait(false);
            if (released)
            {
                Record(offline.Record with { Released = true });
            }

            return released;
        }

        try
        {
            return await _inner.ReleaseAsync(reservation, cancellationToken).ConfigureAwait(false);
        }
        catch (BudgetLedgerUnavailableException)
        {
            Record(new FailOpenRecord(reservation.Id, [.. reservation.Accounts], reservation.Amount, reservation.ExpiresAt, Released: true));
            return true;
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default) => _inner.GetBalancesAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BudgetWindowTotal>> GetClosedWindowsAsync(CancellationToken cancellationToken = default) => _inner.GetClosedWindowsAsync(cancellationToken);

    /// <summary>
    /// Sends the pending steps to the inner ledger, in order, each applied once however often it is sent; stops when the inner ledger is
    /// unreachable. A step it refuses for good (a damaged account, an invalid record) is set aside (<see cref="FailOpenQueue.RejectOldest"/>:
    /// logged, counted, kept in the rejected file) and the steps after it go on.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many steps were sent now.</returns>
    /// <exception cref="BudgetLedgerUnavailableException">The inner ledger is still unreachable (what is left stays pending).</exception>
    public async Task<int> SendPendingAsync(CancellationToken cancellationToken = default)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int sent = 0;
            while (_pending.TryPeek(out var record))
            {
                try
                {
                    await _inner.AdoptAsync(record, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is BudgetLedgerDamagedException or ArgumentException)
                {
                    // It would fail the same way every time: keeping it first would stop every step behind it from ever reaching Redis.
                    _pending.RejectOldest(record, e.Message);
                    continue;
                }

                _pending.RemoveOldest();
                sent++;
            }

            if (sent > 0)
            {
                _telemetry.Sent(sent);
                RedisBudgetLog.Reconciled(_logger, sent);
                Volatile.Write(ref _failingOpen, 0);
            }

            // Reconciled: the next outage starts with the whole cap again (reservations still open keep their own ledger).
            if (sent > 0 && _offline is { OutstandingReservations: 0 } drained)
            {
                _offline = new InMemoryBudgetLedger(timeProvider: _time);
                drained.Dispose();
            }

            return sent;
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Stops sending and closes the journal (what is still in it is sent by the next ledger that opens it).</summary>
    public void Dispose()
    {
        _sendTimer.Dispose();
        _offline.Dispose();
        _pending.Dispose();
    }

    /// <summary>Journals a step, then tries to send it.</summary>
    private void Record(FailOpenRecord record)
    {
        try
        {
            _pending.Add(record);
        }
        catch (IOException e)
        {
            // The reservation itself is journaled: unfinished, its expiry charges what it held, which is at least its cost.
            RedisBudgetLog.OutcomeNotJournaled(_logger, record.Id, e);
        }

        _ = SendPendingQuietlyAsync();
    }

    private async Task SendPendingQuietlyAsync()
    {
        // One attempt at a time: while the inner ledger is away, steps must not queue up behind each other's timeouts.
        if (_pending.Count == 0 || _sending.CurrentCount == 0)
        {
            return;
        }

        try
        {
            await SendPendingAsync().ConfigureAwait(false);
        }
        catch (BudgetLedgerUnavailableException)
        {
            // Still away: the timer tries again.
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: the journal keeps what is left for the next ledger.
        }
        catch (Exception e)
        {
            // Nobody awaits this send (a timer or a settlement started it): never an unobserved exception. What is left stays pending.
            RedisBudgetLog.SendFailed(_logger, e);
        }
    }

    private async ValueTask<BudgetReservation> ReserveOfflineAsync(InMemoryBudgetLedger offline, BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _failingOpen, 1) == 0)
        {
            RedisBudgetLog.FailingOpen(_logger, _cap);
        }

        var capped = accounts.Select(a => a with { Limit = Math.Min(a.Limit, _cap) }).ToArray();
        var inner = await offline.ReserveAsync(capped, amount, expiresAt, cancellationToken).ConfigureAwait(false);
        if (!inner.IsGranted)
        {
            return new BudgetReservation("denied", accounts, amount, inner.CreatedAt, expiresAt, inner.Denied, inner.DeniedIndex);
        }

        var reservation = new OfflineReservation(offline, inner, new FailOpenRecord("offline-" + Guid.NewGuid().ToString("N"), accounts, amount, expiresAt));
        try
        {
            // Journaled before the call goes on: if this process dies, the next ledger on the journal sends it, and its expiry charges it.
            _pending.Add(reservation.Record);
        }
        catch (IOException e)
        {
            await offline.ReleaseAsync(inner, CancellationToken.None).ConfigureAwait(false);
            throw new BudgetLedgerUnavailableException($"Redis is unreachable and the fail-open journal could not be written ({e.Message}); the call is refused rather than left unrecorded.", e);
        }

        _telemetry.FailedOpen();
        return reservation;
    }

    /// <summary>A reservation made in the local ledger while the inner ledger was unreachable.</summary>
    private sealed class OfflineReservation(InMemoryBudgetLedger ledger, BudgetReservation inner, FailOpenRecord record)
        : BudgetReservation(record.Id, record.Accounts, record.Amount, inner.CreatedAt, record.ExpiresAt)
    {
        public InMemoryBudgetLedger Ledger { get; } = ledger;

        public BudgetReservation Inner { get; } = inner;

        /// <summary>Gets the reservation as journaled (its settlement and release are journaled as copies with their outcome).</summary>
        public FailOpenRecord Record { get; } = record;
    }
}
