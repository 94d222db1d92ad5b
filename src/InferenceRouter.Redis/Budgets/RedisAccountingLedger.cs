using System.Globalization;
using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>
/// The accounting of <see cref="RedisBudgetLedger"/>: a ledger in Redis shared by every app instance that uses the same
/// <see cref="RedisBudgetLedgerOptions.KeyPrefix"/>. Reserve, settle and release are one Lua script each (one round trip), atomic over
/// all the call's accounts, idempotent by reservation id, with the in-memory ledger's semantics: a reservation still open at its expiry
/// is charged what it holds (by whichever instance touches the ledger next, so a crashed instance loses no spend), a late settlement
/// replaces that charge, rolling windows forget spend slot by slot, calendar windows' keys expire after <see cref="RedisBudgetLedgerOptions.Retention"/>.
/// </summary>
/// <remarks>
/// Every operation waits at most <see cref="RedisBudgetLedgerOptions.OperationTimeout"/>, then throws <see cref="BudgetLedgerUnavailableException"/>
/// (fail closed); failing open is <see cref="FailOpenBudgetLedger"/>'s job, around this one. All keys share one hash tag, so the ledger
/// lives on one Redis Cluster slot. Thread-safe.
/// </remarks>
internal sealed class RedisAccountingLedger : IAdoptingBudgetLedger
{
    private readonly IDatabase _database;
    private readonly RedisBudgetLedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly RedisKey _open;
    private readonly RedisBudgetTelemetry _telemetry;

    /// <summary>Creates the ledger over a connection the caller owns.</summary>
    /// <param name="redis">The connection.</param>
    /// <param name="options">Valid options (checked by the caller).</param>
    /// <param name="timeProvider">The clock; instances sharing a ledger need clocks that agree (expiry is judged by the caller's clock).</param>
    /// <param name="telemetry">Counts the operations Redis did not answer.</param>
    public RedisAccountingLedger(IConnectionMultiplexer redis, RedisBudgetLedgerOptions options, TimeProvider timeProvider, RedisBudgetTelemetry telemetry)
    {
        _database = redis.GetDatabase();
        _options = options;
        _time = timeProvider;
        _prefix = "{" + _options.KeyPrefix + "}";
        _open = _prefix + ":open";
        _telemetry = telemetry;
    }

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
        (int)(await FinishAsync(reservation, -1, cancellationToken).ConfigureAwait(false))[0] == 1;

    /// <inheritdoc/>
    public async Task AdoptAsync(FailOpenRecord record, CancellationToken cancellationToken)
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
