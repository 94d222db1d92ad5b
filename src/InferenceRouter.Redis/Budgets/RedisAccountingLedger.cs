using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
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
/// lives on one Redis Cluster slot. Amounts travel as integer strings and the scripts compute on them exactly (<see cref="RedisBudgetScripts"/>);
/// a damaged record fails only the calls that touch it (<see cref="BudgetLedgerDamagedException"/>, logged and counted). Before its first
/// reservation in a limit, an instance checks the limit against the one stored under the prefix (<c>{p}:limits</c>) and refuses a
/// different one: two apps on one prefix would share, and rewrite, one budget. Thread-safe.
/// </remarks>
internal sealed class RedisAccountingLedger : IAdoptingBudgetLedger
{
    private readonly IDatabase _database;
    private readonly RedisBudgetLedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly RedisKey _open;
    private readonly RedisKey _limits;
    private readonly RedisBudgetTelemetry _telemetry;
    private readonly ILogger _logger;

    // The limits this instance has checked against the ones stored under the prefix (name → units, rolling ms): checked once each.
    private readonly ConcurrentDictionary<string, (long Units, long RollingMs)> _verifiedLimits = new(StringComparer.Ordinal);

    /// <summary>Creates the ledger over a connection the caller owns.</summary>
    /// <param name="redis">The connection.</param>
    /// <param name="options">Valid options (checked by the caller).</param>
    /// <param name="timeProvider">The clock; instances sharing a ledger need clocks that agree (expiry is judged by the caller's clock).</param>
    /// <param name="telemetry">Counts the operations Redis did not answer and the damaged records found.</param>
    /// <param name="logger">Logs damaged records.</param>
    public RedisAccountingLedger(IConnectionMultiplexer redis, RedisBudgetLedgerOptions options, TimeProvider timeProvider, RedisBudgetTelemetry telemetry, ILogger logger)
    {
        _database = redis.GetDatabase();
        _options = options;
        _time = timeProvider;
        _prefix = "{" + _options.KeyPrefix + "}";
        _open = _prefix + ":open";
        _limits = _prefix + ":limits";
        _telemetry = telemetry;
        _logger = logger;
    }

    /// <summary>The most accounts one reservation holds (the scripts' bound; a budget has at most this many limits).</summary>
    private const int MaxAccounts = 64;

    /// <inheritdoc/>
    public async ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        if (accounts.Length == 0)
        {
            throw new ArgumentException("A reservation needs at least one account.", nameof(accounts));
        }

        if (accounts.Length > MaxAccounts)
        {
            // The scripts read a reservation's account count as at most 64: one with more could be granted but never settled.
            throw new ArgumentException($"A reservation holds at most {MaxAccounts} accounts; this one has {accounts.Length}.", nameof(accounts));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        if (!AllVerified(accounts))
        {
            await VerifyLimitsAsync(accounts.Select(a => (a.Key.Limit, a.Limit, a.RollingPeriod)), cancellationToken).ConfigureAwait(false);
        }

        var now = _time.GetUtcNow();
        string id = Guid.NewGuid().ToString("N");
        var keys = new RedisKey[accounts.Length + 2];
        keys[0] = _open;
        keys[1] = ReservationKey(id);
        var values = new RedisValue[6 + (7 * accounts.Length)];
        values[0] = _prefix;
        values[1] = id;
        values[2] = Units(amount);
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

        switch ((int)result[1])
        {
            case 1:
                return new BudgetReservation(id, accounts, amount, now, expiresAt);
            case 2:
                throw new BudgetLedgerUnavailableException($"Reservation {id} was released before Redis received it; retry the call.");
            case 4:
                throw Damaged((string)result[3]!, "account");
        }

        int denied = (int)result[2] - 1;
        var balance = Balance(accounts[denied].Key, result, 3);
        return new BudgetReservation("denied", accounts, amount, now, expiresAt, balance, denied);
    }

    /// <inheritdoc/>
    public async ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        var result = await FinishAsync(reservation, Units(cost), cancellationToken).ConfigureAwait(false);
        if ((int)result[1] == 0)
        {
            return new BudgetSettlement(false, []);
        }

        var balances = new BudgetAccountBalance[reservation.Accounts.Count];
        for (int i = 0; i < balances.Length; i++)
        {
            balances[i] = Balance(reservation.Accounts[i].Key, result, 3 + (3 * i));
        }

        return new BudgetSettlement(true, balances, Late: (int)result[2] == 1);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default) =>
        (int)(await FinishAsync(reservation, "-1", cancellationToken).ConfigureAwait(false))[1] == 1;

    /// <inheritdoc/>
    public async Task AdoptAsync(FailOpenRecord record, CancellationToken cancellationToken)
    {
        var keys = new RedisKey[record.Accounts.Length + 2];
        keys[0] = _open;
        keys[1] = ReservationKey(record.Id);
        var values = new RedisValue[7 + (7 * record.Accounts.Length)];
        values[0] = _prefix;
        values[1] = record.Id;
        values[2] = Units(record.Amount);
        values[3] = record.ExpiresAt.ToUnixTimeMilliseconds();
        values[4] = record.Released ? "-1" : record.Cost is { } cost ? Units(cost) : "o";
        values[5] = _time.GetUtcNow().ToUnixTimeMilliseconds();
        values[6] = (long)_options.Retention.TotalMilliseconds;
        AddAccounts(record.Accounts, keys, values, 7);
        var result = (RedisResult[])(await EvaluateAsync(RedisBudgetScripts.Adopt, keys, values, cancellationToken).ConfigureAwait(false))!;
        if ((int)result[1] == 4)
        {
            throw Damaged((string)result[3]!, "account");
        }
    }

    /// <summary>
    /// Checks limits against the ones stored under the prefix, and stores those not stored yet (with
    /// <see cref="RedisBudgetLedgerOptions.OverwriteStoredLimits"/>, writes them over the stored ones). Each limit is checked once per
    /// instance: one that passed is not checked again.
    /// </summary>
    /// <param name="limits">Each limit's name, amount and rolling period (zero for lifetime and calendar windows).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes once every limit is checked.</returns>
    /// <exception cref="InvalidOperationException">A limit is stored under the prefix with another amount or window.</exception>
    /// <exception cref="BudgetLedgerUnavailableException">Redis did not answer.</exception>
    public async Task VerifyLimitsAsync(IEnumerable<(string Name, decimal Amount, TimeSpan Rolling)> limits, CancellationToken cancellationToken = default)
    {
        var list = limits.ToList();
        var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, amount, rolling) in list)
        {
            wanted[name] = StoredLimit(amount, rolling);
        }

        var values = new List<RedisValue> { _options.OverwriteStoredLimits ? "1" : "0" };
        foreach (var (name, value) in wanted)
        {
            values.Add(name);
            values.Add(value);
        }

        var result = (RedisResult[])(await EvaluateAsync(RedisBudgetScripts.VerifyLimits, [_limits], [.. values], cancellationToken).ConfigureAwait(false))!;
        if ((int)result[0] != 0)
        {
            string name = (string)result[1]!, stored = (string)result[2]!;
            throw new InvalidOperationException(
                $"Redis:Budgets:KeyPrefix '{_options.KeyPrefix}' already holds limit '{name}' as {DescribeStoredLimit(stored)}, but this app's is {DescribeStoredLimit(wanted.GetValueOrDefault(name, "?"))}. " +
                "Apps that use one prefix share one budget, and each would enforce its own amount on it. If this is another app, give it its own " +
                "InferenceRouter:Redis:Budgets:KeyPrefix; if you changed the limit on purpose, start this version with " +
                "InferenceRouter:Redis:Budgets:OverwriteStoredLimits = true (it then stores its limits over the old ones).");
        }

        foreach (var (name, amount, rolling) in list)
        {
            _verifiedLimits[name] = (BudgetUnits.From(amount), (long)rolling.TotalMilliseconds);
        }
    }

    /// <summary>Writes each account's key and its seven values (limit, rolling and slot lengths, window end, key parts) from <paramref name="at"/>.</summary>
    private void AddAccounts(IReadOnlyList<BudgetAccount> accounts, RedisKey[] keys, RedisValue[] values, int at)
    {
        for (int i = 0; i < accounts.Count; i++, at += 7)
        {
            var account = accounts[i];
            keys[2 + i] = AccountKey(account.Key);
            long rollingMs = (long)account.RollingPeriod.TotalMilliseconds;
            values[at] = Units(account.Limit);
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
        (long)((RedisResult[])(await EvaluateAsync(RedisBudgetScripts.Sweep, [_open], [_prefix, _time.GetUtcNow().ToUnixTimeMilliseconds()], cancellationToken).ConfigureAwait(false))!)[1];

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

        await foreach (var key in server.KeysAsync(_database.Database, GlobEscape(_prefix) + ":a:*", pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (((string)key!).EndsWith(":s", StringComparison.Ordinal))
            {
                continue;
            }

            HashEntry[] entries;
            try
            {
                entries = await _database.HashGetAllAsync(key).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
            {
                _ = Damaged($"account {key} is not a hash", "account");
                continue;
            }

            var fields = entries.ToDictionary(e => (string)e.Name!, e => e.Value);
            if (!fields.TryGetValue("ln", out var limitName))
            {
                continue;
            }

            // One damaged account is reported and left out; the others are listed.
            if (!TryUnits(fields.GetValueOrDefault("limit", 0), out long limit) || !TryUnits(fields.GetValueOrDefault("spent", 0), out long spent) ||
                !TryUnits(fields.GetValueOrDefault("reserved", 0), out long reserved) || !long.TryParse((string?)fields.GetValueOrDefault("ws", 0), NumberStyles.None, CultureInfo.InvariantCulture, out long windowStart) ||
                windowStart > DateTimeOffset.MaxValue.UtcTicks)
            {
                _ = Damaged($"account {key} has a field that is not an integer", "account");
                continue;
            }

            var accountKey = new BudgetAccountKey(limitName!, (string?)fields.GetValueOrDefault("sv") ?? string.Empty, new DateTimeOffset(windowStart, TimeSpan.Zero));
            balances.Add(new BudgetAccountBalance(accountKey, BudgetUnits.ToDecimal(limit), BudgetUnits.ToDecimal(spent), BudgetUnits.ToDecimal(reserved)));
        }

        return balances;
    }

    private async Task CompensateAsync(string id, RedisKey[] keys)
    {
        try
        {
            await _database.ScriptEvaluateAsync(RedisBudgetScripts.Finish, keys, [_prefix, id, -1, _time.GetUtcNow().ToUnixTimeMilliseconds(), (long)_options.Retention.TotalMilliseconds]).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nobody awaits this (never an unobserved exception). Redis never came back for this connection: if the reserve ran, its reservation expires and is charged (never lost, never overspent).
        }
    }

    private async ValueTask<RedisResult[]> FinishAsync(BudgetReservation reservation, string cost, CancellationToken cancellationToken)
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

        var result = (RedisResult[])(await EvaluateAsync(
            RedisBudgetScripts.Finish, keys, [_prefix, reservation.Id, cost, _time.GetUtcNow().ToUnixTimeMilliseconds(), (long)_options.Retention.TotalMilliseconds], cancellationToken).ConfigureAwait(false))!;
        if ((int)result[1] == 4)
        {
            throw Damaged((string)result[3]!, "reservation");
        }

        return result;
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _database.ScriptEvaluateAsync(script, keys, values).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            if (result.Resp2Type == ResultType.Array && ((RedisResult[])result!) is [{ Resp2Type: ResultType.Array } notes, ..] && notes.Length > 0)
            {
                // Expired reservations set aside as damaged on the way: the script went on; each is reported once (it left the open set).
                foreach (var note in (RedisResult[])notes!)
                {
                    _ = Damaged((string)note!, "reservation");
                }
            }

            return result;
        }
        catch (Exception e) when (e is TimeoutException or RedisException)
        {
            _telemetry.Unavailable();
            throw new BudgetLedgerUnavailableException($"The Redis budget ledger did not answer within {_options.OperationTimeout.TotalMilliseconds:F0} ms ({e.GetType().Name}: {e.Message}); the call is refused rather than left unbudgeted.", e);
        }
    }

    private RedisKey ReservationKey(string id) => _prefix + ":r:" + id;

    /// <summary>Logs and counts a damaged record; returns the exception that fails the call that touched it.</summary>
    private BudgetLedgerDamagedException Damaged(string reason, string record)
    {
        RedisBudgetLog.DamagedRecord(_logger, _prefix, reason);
        _telemetry.Damaged(record);
        return new BudgetLedgerDamagedException(
            $"The Redis budget ledger under {_prefix} holds a damaged record ({reason}); calls that touch it are refused until it is repaired or deleted. Other accounts are unaffected.");
    }

    private bool AllVerified(BudgetAccount[] accounts)
    {
        foreach (var account in accounts)
        {
            // Compared as numbers: no string per account per call.
            if (!_verifiedLimits.TryGetValue(account.Key.Limit, out var value) || value != (BudgetUnits.From(account.Limit), (long)account.RollingPeriod.TotalMilliseconds))
            {
                return false;
            }
        }

        return true;
    }

    private static string StoredLimit(decimal amount, TimeSpan rolling) =>
        string.Create(CultureInfo.InvariantCulture, $"{BudgetUnits.From(amount)}:{(long)rolling.TotalMilliseconds}");

    private static string DescribeStoredLimit(string stored)
    {
        var parts = stored.Split(':');
        return parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long units) && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long rolling)
            ? string.Create(CultureInfo.InvariantCulture, $"{BudgetUnits.ToDecimal(units):0.##########}{(rolling == 0 ? string.Empty : $" per rolling {TimeSpan.FromMilliseconds(rolling).TotalHours:G} h")}")
            : $"'{stored}'";
    }

    /// <summary>An amount as the integer string the scripts compute on (never a number a Lua script would round or print in exponent notation).</summary>
    private static string Units(decimal amount) => BudgetUnits.From(amount).ToString(CultureInfo.InvariantCulture);

    // Length-prefixed parts: a scope value may contain any character without two accounts sharing a key. Redis keys are UTF-8, where
    // every lone surrogate reads as the same replacement character: such a part is refused (the budget's own ids never carry one).
    private RedisKey AccountKey(BudgetAccountKey key)
    {
        if (!IsValidUtf16(key.Limit) || !IsValidUtf16(key.ScopeValue))
        {
            throw new ArgumentException($"Account '{key}' has a lone surrogate in its name or scope value; Redis keys are UTF-8 and cannot tell such values apart.", nameof(key));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{_prefix}:a:{key.Limit.Length}:{key.Limit}|{key.ScopeValue.Length}:{key.ScopeValue}|{key.WindowStart.UtcTicks}");
    }

    private static bool IsValidUtf16(string value) =>
        value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0 || System.Text.Unicode.Utf8.FromUtf16(value, new byte[value.Length * 3], out _, out _, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done;

    /// <summary>The prefix as a SCAN pattern that matches it literally (a prefix may hold <c>*</c>, <c>?</c>, <c>[</c>).</summary>
    private static string GlobEscape(string prefix) =>
        prefix.AsSpan().IndexOfAny("*?[]\\") < 0 ? prefix : string.Concat(prefix.Select(c => c is '*' or '?' or '[' or ']' or '\\' ? "\\" + c : c.ToString()));

    private static BudgetAccountBalance Balance(BudgetAccountKey key, RedisResult[] result, int at) =>
        new(key, Decimal(result[at]), Decimal(result[at + 1]), Decimal(result[at + 2]));

    private static decimal Decimal(RedisResult value) => BudgetUnits.ToDecimal(long.Parse((string)value!, CultureInfo.InvariantCulture));

    private static bool TryUnits(RedisValue value, out long units) => long.TryParse((string?)value, NumberStyles.None, CultureInfo.InvariantCulture, out units);
}
