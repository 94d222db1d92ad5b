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
/// <para>
/// This type composes the ledger from its options: the Redis accounting, wrapped, when a cap is set, by fail-open as a strategy of its
/// own (a local capped ledger and the journal). Each part changes for its own reason; this one only when the options do.
/// </para>
/// </remarks>
public sealed class RedisBudgetLedger : IBudgetLedger, IDisposable
{
    private readonly RedisAccountingLedger _redis;
    private readonly FailOpenBudgetLedger? _failOpen;
    private readonly IBudgetLedger _ledger;
    private readonly RedisBudgetTelemetry _telemetry;

    /// <summary>Creates the ledger over a connection the app owns (it is not disposed here).</summary>
    /// <param name="redis">The connection.</param>
    /// <param name="options">The options; <see cref="RedisBudgetLedgerOptions.KeyPrefix"/> is required (null options are refused for want of it).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> by default. Instances sharing a ledger need clocks that agree (expiry is judged by the caller's clock).</param>
    /// <param name="logger">Logs failing open and reconciling.</param>
    /// <param name="meterFactory">Creates the <c>InferenceRouter</c> meter (operations Redis did not answer, fail-open reservations, steps sent after an outage); null for a private one.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="InvalidOperationException">The fail-open journal cannot be opened (in use by another ledger, or not writable).</exception>
    public RedisBudgetLedger(IConnectionMultiplexer redis, RedisBudgetLedgerOptions? options = null, TimeProvider? timeProvider = null, ILogger<RedisBudgetLedger>? logger = null, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        options ??= new RedisBudgetLedgerOptions();  // refused below: KeyPrefix is required
        var problems = options.GetValidationErrors().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        var time = timeProvider ?? TimeProvider.System;
        var log = (ILogger?)logger ?? NullLogger.Instance;
        _telemetry = new RedisBudgetTelemetry(meterFactory);
        _redis = new RedisAccountingLedger(redis, options, time, _telemetry, log);
        if (options.FailOpenCap is { } cap)
        {
            try
            {
                _failOpen = new FailOpenBudgetLedger(_redis, cap, new FailOpenQueue(options.FailOpenJournalPath, log, _telemetry), time, log, _telemetry);
            }
            catch
            {
                _telemetry.Dispose();
                throw;
            }
        }

        _ledger = (IBudgetLedger?)_failOpen ?? _redis;
    }

    /// <summary>
    /// Gets how many reservations, settlements and releases made while Redis was unreachable (fail open) are still to be sent to it,
    /// including those read back from <see cref="RedisBudgetLedgerOptions.FailOpenJournalPath"/>.
    /// </summary>
    public int PendingOfflineCharges => _failOpen?.PendingSteps ?? 0;

    /// <inheritdoc/>
    public ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        _ledger.ReserveAsync(accounts, amount, expiresAt, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default) =>
        _ledger.SettleAsync(reservation, cost, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default) =>
        _ledger.ReleaseAsync(reservation, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default) =>
        _ledger.GetBalancesAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BudgetWindowTotal>> GetClosedWindowsAsync(CancellationToken cancellationToken = default) =>
        _ledger.GetClosedWindowsAsync(cancellationToken);

    /// <summary>
    /// Sends to Redis, in order, what was reserved, settled and released while it was unreachable (fail open): each reservation becomes
    /// a Redis reservation, charged at its expiry unless its settlement or release arrives. Each record applies once however often it is
    /// sent; stops at the first failure. Also runs by itself every 5 s and after each fail-open settlement or release.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many records were sent now.</returns>
    public Task<int> ChargeOfflineSpendAsync(CancellationToken cancellationToken = default) =>
        _failOpen?.SendPendingAsync(cancellationToken) ?? Task.FromResult(0);

    /// <summary>Charges every reservation whose expiry has passed (each operation also charges up to 64 on its way).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many were charged.</returns>
    public Task<long> ChargeExpiredAsync(CancellationToken cancellationToken = default) => _redis.ChargeExpiredAsync(cancellationToken);

    /// <summary>Checks limits against the ones stored under the key prefix (see <see cref="RedisAccountingLedger.VerifyLimitsAsync"/>).</summary>
    internal Task VerifyLimitsAsync(IEnumerable<(string Name, decimal Amount, TimeSpan Rolling)> limits, CancellationToken cancellationToken) =>
        _redis.VerifyLimitsAsync(limits, cancellationToken);

    /// <summary>Stops the fail-open retries and closes the journal (what is still in it is sent by the next ledger that opens it).</summary>
    public void Dispose()
    {
        _failOpen?.Dispose();
        _telemetry.Dispose();
    }
}
