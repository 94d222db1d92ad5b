using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>
/// An <see cref="IBudgetLedger"/> on Redis, shared by every app instance that uses the same <see cref="RedisBudgetLedgerOptions.KeyPrefix"/>:
/// a limit holds across the fleet. Reserve, settle and release are one Lua script each (one round trip), atomic over all the call's
/// accounts, idempotent by reservation id, with the in-memory ledger's semantics: a reservation still open at its expiry is charged
/// what it holds (by whichever instance touches the ledger next, so a crashed instance loses no spend), a late settlement replaces
/// that charge, rolling windows forget spend slot by slot, calendar windows' keys expire after <see cref="RedisBudgetLedgerOptions.Retention"/>.
/// </summary>
/// <remarks>
/// Every call waits at most <see cref="RedisBudgetLedgerOptions.OperationTimeout"/>; when Redis is slow or down the operation throws
/// <see cref="BudgetLedgerUnavailableException"/> and the call fails closed (no call goes unbudgeted), unless
/// <see cref="RedisBudgetLedgerOptions.FailOpenCap"/> is set: then reservations are made in a local ledger where each account may hold at
/// most the cap; each is sent to Redis (once, by reservation id) as soon as it answers again, with its settlement or release, and journaled
/// meanwhile in <see cref="RedisBudgetLedgerOptions.FailOpenJournalPath"/> so a killed process loses none of it. All keys share one hash tag, so the
/// ledger lives on one Redis Cluster slot. Configure Redis with AOF persistence (<c>appendonly yes</c>) so a restart loses no spend.
/// Thread-safe.
/// </remarks>
public sealed class RedisBudgetLedger : IBudgetLedger, IDisposable
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);
    private readonly FailOpenQueue? _failOpen;
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly ITimer? _flushTimer;
    private volatile InMemoryBudgetLedger? _offline;
    private readonly ILogger _logger;
    private int _failingOpen;
    private readonly IDatabase _database;
    private readonly RedisBudgetLedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly RedisKey _open;
    private readonly RedisBudgetTelemetry _telemetry;

    /// <summary>Creates the ledger over a connection the app owns (it is not disposed here).</summary>
    /// <param name="redis">The connection.</param>
    /// <param name="options">The options; null for defaults.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> by default. Instances sharing a ledger need clocks that agree (expiry is judged by the caller's clock).</param>
    /// <param name="logger">Logs failing open and reconciling.</param>
    /// <param name="meterFactory">Creates the <c>InferenceRouter</c> meter (operations Redis did not answer, fail-open reservations, steps sent after an outage); null for a private one.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="InvalidOperationException">The fail-open journal cannot be opened (in use by another ledger, or not writable).</exception>
    public RedisBudgetLedger(IConnectionMultiplexer redis, RedisBudgetLedgerOptions? options = null, TimeProvider? timeProvider = null, ILogger<RedisBudgetLedger>? logger = null, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _options = options ?? new RedisBudgetLedgerOptions();
        var problems = _options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        _database = redis.GetDatabase();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _prefix = "{" + _options.KeyPrefix + "}";
        _open = _prefix + ":open";
        _telemetry = new RedisBudgetTelemetry(meterFactory);
        if (_options.FailOpenCap is not null)
        {
            _failOpen = new FailOpenQueue(_options.FailOpenJournalPath, _logger);
            _offline = new InMemoryBudgetLedger(timeProvider: _time);
            _flushTimer = _time.CreateTimer(static state => _ = ((RedisBudgetLedger)state!).ChargeOfflineSpendQuietlyAsync(), this, TimeSpan.Zero, FlushInterval);
        }
    }

    /// <summary>
    /// Gets how many reservations, settlements and releases made while Redis was unreachable (fail open) are still to be sent to it,
    /// including those read back from <see cref="RedisBudgetLedgerOptions.FailOpenJournalPath"/>.
    /// </summary>
    public int PendingOfflineCharges => _failOpen?.Count ?? 0;

    /// <inheritdoc/>
    public async ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        if (accounts.Length == 0)
        {
            throw new ArgumentException("A reservation needs at least one account.", nameof(accounts));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        var now = _time.GetUtcNow();
        string id = Guid.NewGuid().ToString("N");
        var keys = new RedisKey[accounts.Length + 2];
        keys[0] = _open;
        keys[1] = ReservationKey(id);
        var values = new RedisValue[6 + (7 * accounts.Length)];
        values[0] = _prefix;
        values[1] = id;
        values[2] = BudgetUnits.From(amount);
        values[3] = now.ToUnixTimeMilliseconds();
        values[4] = expiresAt.ToUnixTimeMilliseconds();
        values[5] = (long)_options.Retention.TotalMilliseconds;
        AddAccounts(accounts, keys, values, 6);
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await EvaluateAsync(RedisBudgetScripts.Reserve, keys, values, cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception e) when (e is BudgetLedgerUnavailableException or OperationCanceledException)
        {
            // The reserve may still reach Redis (queued while it was away). Release the id behind it: on the same connection the release
            // runs after it, and if it runs first it leaves a tombstone the reserve respects. Either way nothing stays held.
            _ = CompensateAsync(id, keys);
            if (e is BudgetLedgerUnavailableException && _offline is { } offline)
            {
                return await ReserveOfflineAsync(offline, accounts, amount, expiresAt, cancellationToken).ConfigureAwait(false);
            }

            throw;
        }

        if ((int)result[0] == 1)
        {
            return new BudgetReservation(id, accounts, amount, now, expiresAt);
        }

        if ((int)result[0] == 2)
        {
            throw new BudgetLedgerUnavailableException($"Reservation {id} was released before Redis received it; retry the call.");
        }

        int denied = (int)result[1] - 1;
        var balance = Balance(accounts[denied].Key, result, 2);
        return new BudgetReservation("denied", accounts, amount, now, expiresAt, balance, denied);
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

        RedisResult[] result;
        try
        {
            result = await FinishAsync(reservation, BudgetUnits.From(cost), cancellationToken).ConfigureAwait(false);
        }
        catch (BudgetLedgerUnavailableException) when (_failOpen is not null)
        {
            // Failing open: the real cost is journaled and replaces the reservation's expiry charge once Redis answers.
            Record(new FailOpenRecord(reservation.Id, [.. reservation.Accounts], reservation.Amount, reservation.ExpiresAt, Cost: cost));
            return new BudgetSettlement(true, []);
        }

        if ((int)result[0] == 0)
        {
            return new BudgetSettlement(false, []);
        }

        var balances = new BudgetAccountBalance[reservation.Accounts.Count];
        for (int i = 0; i < balances.Length; i++)
        {
            balances[i] = Balance(reservation.Accounts[i].Key, result, 2 + (3 * i));
        }

        return new BudgetSettlement(true, balances, Late: (int)result[1] == 1);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default)
    {
        if (reservation is not OfflineReservation offline)
        {
            try
            {
                return (int)(await FinishAsync(reservation, -1, cancellationToken).ConfigureAwait(false))[0] == 1;
            }
            catch (BudgetLedgerUnavailableException) when (_failOpen is not null)
            {
                Record(new FailOpenRecord(reservation.Id, [.. reservation.Accounts], reservation.Amount, reservation.ExpiresAt, Released: true));
                return true;
            }
        }

        bool released = await offline.Ledger.ReleaseAsync(offline.Inner, cancellationToken).ConfigureAwait(false);
        if (released)
        {
            Record(offline.Record with { Released = true });
        }

        return released;
    }

    /// <summary>
    /// Sends to Redis, in order, what was reserved, settled and released while it was unreachable (fail open): each reservation becomes
    /// a Redis reservation, charged at its expiry unless its settlement or release arrives. Each record applies once however often it is
    /// sent; stops at the first failure. Also runs by itself every 5 s and after each fail-open settlement or release.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many records were sent now.</returns>
    public async Task<int> ChargeOfflineSpendAsync(CancellationToken cancellationToken = default)
    {
        if (_failOpen is null)
        {
            return 0;
        }

        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int charged = 0;
            while (_failOpen.TryPeek(out var record))
            {
                var keys = new RedisKey[record.Accounts.Length + 2];
                keys[0] = _open;
                keys[1] = ReservationKey(record.Id);
                var values = new RedisValue[7 + (7 * record.Accounts.Length)];
                values[0] = _prefix;
                values[1] = record.Id;
                values[2] = BudgetUnits.From(record.Amount);
                values[3] = record.ExpiresAt.ToUnixTimeMilliseconds();
                values[4] = record.Released ? "-1" : record.Cost is { } cost ? BudgetUnits.From(cost) : "o";
                values[5] = _time.GetUtcNow().ToUnixTimeMilliseconds();
                values[6] = (long)_options.Retention.TotalMilliseconds;
                AddAccounts(record.Accounts, keys, values, 7);
                await EvaluateAsync(RedisBudgetScripts.Adopt, keys, values, cancellationToken).ConfigureAwait(false);
                _failOpen.RemoveOldest();
                charged++;
            }

            if (charged > 0)
            {
                _telemetry.Sent(charged);
                RedisBudgetLog.Reconciled(_logger, charged);
                Volatile.Write(ref _failingOpen, 0);
            }

            // Reconciled: the next outage starts with the whole cap again (reservations still open keep their own ledger).
            if (charged > 0 && _offline is { OutstandingReservations: 0 } drained)
            {
                _offline = new InMemoryBudgetLedger(timeProvider: _time);
                drained.Dispose();
            }

            return charged;
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>Stops the fail-open retries and closes the journal (what is still in it is sent by the next ledger that opens it).</summary>
    public void Dispose()
    {
        _flushTimer?.Dispose();
        _offline?.Dispose();
        _failOpen?.Dispose();
        _telemetry.Dispose();
    }

    /// <summary>Journals a fail-open step, then tries to send it.</summary>
    private void Record(FailOpenRecord record)
    {
        try
        {
            _failOpen!.Add(record);
        }
        catch (IOException e)
        {
            // The reservation itself is journaled: unfinished, its expiry charges what it held, which is at least its cost.
            RedisBudgetLog.OutcomeNotJournaled(_logger, record.Id, e);
        }

        _ = ChargeOfflineSpendQuietlyAsync();
    }

    private async Task ChargeOfflineSpendQuietlyAsync()
    {
        // One attempt at a time: while Redis is away, steps must not queue up behind each other's timeouts.
        if (_failOpen is not { Count: > 0 } || _flushing.CurrentCount == 0)
        {
            return;
        }

        try
        {
            await ChargeOfflineSpendAsync().ConfigureAwait(false);
        }
        catch (BudgetLedgerUnavailableException)
        {
            // Still away: the timer tries again.
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: the journal keeps what is left for the next ledger.
        }
    }

    private async ValueTask<BudgetReservation> ReserveOfflineAsync(InMemoryBudgetLedger offline, BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        decimal cap = _options.FailOpenCap!.Value;
        if (Interlocked.Exchange(ref _failingOpen, 1) == 0)
        {
            RedisBudgetLog.FailingOpen(_logger, cap);
        }

        var capped = accounts.Select(a => a with { Limit = Math.Min(a.Limit, cap) }).ToArray();
        var inner = await offline.ReserveAsync(capped, amount, expiresAt, cancellationToken).ConfigureAwait(false);
        if (!inner.IsGranted)
        {
            return new BudgetReservation("denied", accounts, amount, inner.CreatedAt, expiresAt, inner.Denied, inner.DeniedIndex);
        }

        var reservation = new OfflineReservation(offline, inner, new FailOpenRecord("offline-" + Guid.NewGuid().ToString("N"), accounts, amount, expiresAt));
        try
        {
            // Journaled before the call goes on: if this process dies, the next ledger on the journal sends it, and its expiry charges it.
            _failOpen!.Add(reservation.Record);
        }
        catch (IOException e)
        {
            await offline.ReleaseAsync(inner, CancellationToken.None).ConfigureAwait(false);
            throw new BudgetLedgerUnavailableException($"Redis is unreachable and the fail-open journal could not be written ({e.Message}); the call is refused rather than left unrecorded.", e);
        }

        _telemetry.FailedOpen();
        return reservation;
    }

    /// <summary>Writes each account's key and its seven values (limit, rolling and slot lengths, window end, key parts) from <paramref name="at"/>.</summary>
    private void AddAccounts(IReadOnlyList<BudgetAccount> accounts, RedisKey[] keys, RedisValue[] values, int at)
    {
        for (int i = 0; i < accounts.Count; i++, at += 7)
        {
            var account = accounts[i];
            keys[2 + i] = AccountKey(account.Key);
            long rollingMs = (long)account.RollingPeriod.TotalMilliseconds;
            values[at] = BudgetUnits.From(account.Limit);
            values[at + 1] = rollingMs;
            values[at + 2] = rollingMs == 0 ? 0 : Math.Max(rollingMs / 100, 1000);  // 100 slots per window, as in memory
            values[at + 3] = account.WindowEnd?.ToUnixTimeMilliseconds() ?? 0;
            values[at + 4] = account.Key.Limit;
            values[at + 5] = account.Key.ScopeValue;
            values[at + 6] = account.Key.WindowStart.UtcTicks;
        }
    }

    /// <summary>A reservation made in the local ledger while Redis was unreachable.</summary>
    private sealed class OfflineReservation(InMemoryBudgetLedger ledger, BudgetReservation inner, FailOpenRecord record)
        : BudgetReservation(record.Id, record.Accounts, record.Amount, inner.CreatedAt, record.ExpiresAt)
    {
        public InMemoryBudgetLedger Ledger { get; } = ledger;

        public BudgetReservation Inner { get; } = inner;

        /// <summary>Gets the reservation as journaled (its settlement and release are journaled as copies with their outcome).</summary>
        public FailOpenRecord Record { get; } = record;
    }

    /// <summary>Charges every reservation whose expiry has passed (each operation also charges up to 64 on its way).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many were charged.</returns>
    public async Task<long> ChargeExpiredAsync(CancellationToken cancellationToken = default) =>
        (long)(await EvaluateAsync(RedisBudgetScripts.Sweep, [_open], [_prefix, _time.GetUtcNow().ToUnixTimeMilliseconds()], cancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default)
    {
        await ChargeExpiredAsync(cancellationToken).ConfigureAwait(false);
        var balances = new List<BudgetAccountBalance>();
        // The server that owns the prefix's hash slot: on a Cluster, the one shard that holds the whole ledger.
        var server = _database.Multiplexer.GetServer(_open);
        if (!server.IsConnected)
        {
            throw new BudgetLedgerUnavailableException($"The Redis server holding the budget ledger ({server.EndPoint}) is not connected; balances cannot be listed.");
        }

        await foreach (var key in server.KeysAsync(_database.Database, _prefix + ":a:*", pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (((string)key!).EndsWith(":s", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = (await _database.HashGetAllAsync(key).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false)).ToDictionary(e => (string)e.Name!, e => e.Value);
            if (!fields.TryGetValue("ln", out var limitName))
            {
                continue;
            }

            var accountKey = new BudgetAccountKey(limitName!, fields["sv"]!, new DateTimeOffset((long)fields["ws"], TimeSpan.Zero));
            balances.Add(new BudgetAccountBalance(accountKey, Decimal(fields["limit"]), Decimal(fields.GetValueOrDefault("spent", 0)), Decimal(fields.GetValueOrDefault("reserved", 0))));
        }

        return balances;
    }

    private async Task CompensateAsync(string id, RedisKey[] keys)
    {
        try
        {
            await _database.ScriptEvaluateAsync(RedisBudgetScripts.Finish, keys, [_prefix, id, -1, _time.GetUtcNow().ToUnixTimeMilliseconds(), (long)_options.Retention.TotalMilliseconds]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis never came back for this connection: if the reserve ran, its reservation expires and is charged (never lost, never overspent).
        }
    }

    private async ValueTask<RedisResult[]> FinishAsync(BudgetReservation reservation, long cost, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        if (!reservation.IsGranted)
        {
            throw new ArgumentException("The reservation was denied; there is nothing to settle or release.", nameof(reservation));
        }

        var keys = new RedisKey[reservation.Accounts.Count + 2];
        keys[0] = _open;
        keys[1] = ReservationKey(reservation.Id);
        for (int i = 0; i < reservation.Accounts.Count; i++)
        {
            keys[2 + i] = AccountKey(reservation.Accounts[i].Key);
        }

        return (RedisResult[])(await EvaluateAsync(
            RedisBudgetScripts.Finish, keys, [_prefix, reservation.Id, cost, _time.GetUtcNow().ToUnixTimeMilliseconds(), (long)_options.Retention.TotalMilliseconds], cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        try
        {
            return await _database.ScriptEvaluateAsync(script, keys, values).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or RedisException)
        {
            _telemetry.Unavailable();
            throw new BudgetLedgerUnavailableException($"The Redis budget ledger did not answer within {_options.OperationTimeout.TotalMilliseconds:F0} ms ({e.GetType().Name}: {e.Message}); the call is refused rather than left unbudgeted.", e);
        }
    }

    private RedisKey ReservationKey(string id) => _prefix + ":r:" + id;

    // Length-prefixed parts: a scope value may contain any character without two accounts sharing a key.
    private RedisKey AccountKey(BudgetAccountKey key) =>
        string.Create(CultureInfo.InvariantCulture, $"{_prefix}:a:{key.Limit.Length}:{key.Limit}|{key.ScopeValue.Length}:{key.ScopeValue}|{key.WindowStart.UtcTicks}");

    private static BudgetAccountBalance Balance(BudgetAccountKey key, RedisResult[] result, int at) =>
        new(key, Decimal(result[at]), Decimal(result[at + 1]), Decimal(result[at + 2]));

    private static decimal Decimal(RedisResult value) => BudgetUnits.ToDecimal(long.Parse((string)value!, CultureInfo.InvariantCulture));

    private static decimal Decimal(RedisValue value) => BudgetUnits.ToDecimal((long)value);
}
