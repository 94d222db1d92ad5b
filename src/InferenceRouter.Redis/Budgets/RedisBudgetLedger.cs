using System.Collections.Concurrent;
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
/// most the cap, and what they settle is charged to Redis (once, by reservation id) as soon as it answers again. All keys share one hash tag, so the
/// ledger lives on one Redis Cluster slot. Configure Redis with AOF persistence (<c>appendonly yes</c>) so a restart loses no spend.
/// Thread-safe.
/// </remarks>
public sealed class RedisBudgetLedger : IBudgetLedger, IDisposable
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);
    private readonly ConcurrentQueue<OfflineCharge> _pending = new();
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

    /// <summary>Creates the ledger over a connection the app owns (it is not disposed here).</summary>
    /// <param name="redis">The connection.</param>
    /// <param name="options">The options; null for defaults.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> by default. Instances sharing a ledger need clocks that agree (expiry is judged by the caller's clock).</param>
    /// <param name="logger">Logs failing open and reconciling.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public RedisBudgetLedger(IConnectionMultiplexer redis, RedisBudgetLedgerOptions? options = null, TimeProvider? timeProvider = null, ILogger<RedisBudgetLedger>? logger = null)
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
        if (_options.FailOpenCap is not null)
        {
            _offline = new InMemoryBudgetLedger(timeProvider: _time);
            _flushTimer = _time.CreateTimer(static state => _ = ((RedisBudgetLedger)state!).ChargeOfflineSpendQuietlyAsync(), this, FlushInterval, FlushInterval);
        }
    }

    /// <summary>Gets how many settlements made while Redis was unreachable are still to be charged to it.</summary>
    public int PendingOfflineCharges => _pending.Count;

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
                _pending.Enqueue(new OfflineCharge(offline.Id, offline.Accounts, cost));
                _ = ChargeOfflineSpendQuietlyAsync();
            }

            return settled;
        }

        var result = await FinishAsync(reservation, BudgetUnits.From(cost), cancellationToken).ConfigureAwait(false);
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
    public async ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default) =>
        reservation is OfflineReservation offline
            ? await offline.Ledger.ReleaseAsync(offline.Inner, cancellationToken).ConfigureAwait(false)
            : (int)(await FinishAsync(reservation, -1, cancellationToken).ConfigureAwait(false))[0] == 1;

    /// <summary>Charges to Redis what was settled while it was unreachable (fail open), in order, each once; stops at the first failure.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many were charged now.</returns>
    public async Task<int> ChargeOfflineSpendAsync(CancellationToken cancellationToken = default)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int charged = 0;
            while (_pending.TryPeek(out var charge))
            {
                var keys = new RedisKey[charge.Accounts.Count + 2];
                keys[0] = _open;
                keys[1] = ReservationKey(charge.Id);
                var values = new RedisValue[5 + (7 * charge.Accounts.Count)];
                values[0] = _prefix;
                values[1] = charge.Id;
                values[2] = BudgetUnits.From(charge.Cost);
                values[3] = _time.GetUtcNow().ToUnixTimeMilliseconds();
                values[4] = (long)_options.Retention.TotalMilliseconds;
                AddAccounts(charge.Accounts, keys, values, 5);
                await EvaluateAsync(RedisBudgetScripts.ChargeOffline, keys, values, cancellationToken).ConfigureAwait(false);
                _pending.TryDequeue(out _);
                charged++;
            }

            if (charged > 0)
            {
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

    /// <summary>Stops the offline-charge retries.</summary>
    public void Dispose()
    {
        _flushTimer?.Dispose();
        _offline?.Dispose();
    }

    private async Task ChargeOfflineSpendQuietlyAsync()
    {
        if (_pending.IsEmpty)
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
        return inner.IsGranted
            ? new OfflineReservation(offline, inner, accounts, amount, expiresAt)
            : new BudgetReservation("denied", accounts, amount, inner.CreatedAt, expiresAt, inner.Denied, inner.DeniedIndex);
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
    private sealed class OfflineReservation(InMemoryBudgetLedger ledger, BudgetReservation inner, IReadOnlyList<BudgetAccount> accounts, decimal amount, DateTimeOffset expiresAt)
        : BudgetReservation("offline-" + Guid.NewGuid().ToString("N"), accounts, amount, inner.CreatedAt, expiresAt)
    {
        public InMemoryBudgetLedger Ledger { get; } = ledger;

        public BudgetReservation Inner { get; } = inner;
    }

    private sealed record OfflineCharge(string Id, IReadOnlyList<BudgetAccount> Accounts, decimal Cost);

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
        var server = _database.Multiplexer.GetServers().FirstOrDefault(s => s.IsConnected && !s.IsReplica)
            ?? throw new BudgetLedgerUnavailableException("No connected Redis primary to list budget accounts from.");
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
