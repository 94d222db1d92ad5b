using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace InferenceRouter;

/// <summary>
/// The budget: prices, limits and the ledger. It reserves a call's worst-case cost in every limit that applies, settles the real cost
/// afterwards, raises threshold events and reports spend. <see cref="BudgetChatClient"/> and the router use it; so can custom clients.
/// </summary>
/// <remarks>Thread-safe; one per application (DI registers it as a singleton). Amounts are rounded to 10 decimal places.</remarks>
public sealed class BudgetManager : IDisposable
{
    private const int Decimals = 10;

    /// <summary>The longest tenant or user id a budget accepts.</summary>
    public const int MaxIdLength = 256;

    private readonly BudgetOptions _options;
    private readonly BudgetLimit[] _limits;
    private readonly FrozenDictionary<string, BudgetLimit> _limitsByName;
    private readonly IReadOnlyList<double> _thresholds;
    private readonly bool _ownsLedger;
    private readonly TimeZoneInfo _zone;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BudgetTelemetry _telemetry;
    private readonly ConcurrentDictionary<ChatRoute, BudgetTarget> _routeTargets = new();
    private readonly ConcurrentDictionary<string, BudgetTarget> _modelTargets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _warnedModels = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<BudgetAccountKey, int> _thresholdLevels = new();
    private readonly ConcurrentDictionary<string, SpendCounter> _spend = new(StringComparer.OrdinalIgnoreCase);
    private long _nextThresholdPruneTicks;

    /// <summary>Creates a budget.</summary>
    /// <param name="options">Limits and prices; validated here.</param>
    /// <param name="ledger">Where spend is kept; an <see cref="InMemoryBudgetLedger"/> (persisted to <see cref="BudgetOptions.PersistencePath"/> if set) by default.</param>
    /// <param name="loggerFactory">Logging; none by default.</param>
    /// <param name="meterFactory">Metrics; a private meter by default.</param>
    /// <param name="timeProvider">The clock for windows; <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public BudgetManager(BudgetOptions? options = null, IBudgetLedger? ledger = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new BudgetOptions();
        _options.Validate();
        _limits = [.. _options.Limits];
        _limitsByName = _limits.ToFrozenDictionary(l => l.DisplayName, StringComparer.OrdinalIgnoreCase);
        _thresholds = [.. _options.EffectiveThresholds.Order()];
        BudgetOptions.TryFindTimeZone(_options.TimeZone, out _zone);
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<BudgetManager>() ?? NullLogger.Instance;
        _telemetry = new BudgetTelemetry(meterFactory);
        Catalog = BuildCatalog(_options);
        _ownsLedger = ledger is null;
        Ledger = ledger ?? new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = _options.PersistencePath }, _time);
    }

    /// <summary>
    /// Raised when an account's spend crosses one of <see cref="BudgetOptions.Thresholds"/> (once per crossing), on the thread that settled
    /// the call. A handler that throws is logged; the call still gets its answer and its charge.
    /// </summary>
    public event EventHandler<BudgetThresholdEventArgs>? ThresholdCrossed;

    /// <summary>Gets the options.</summary>
    public BudgetOptions Options => _options;

    /// <summary>Gets the ledger spend is kept in.</summary>
    public IBudgetLedger Ledger { get; }

    /// <summary>Gets the prices in use: the default catalog (unless turned off), a catalog file, then <see cref="BudgetOptions.Prices"/>.</summary>
    public PriceCatalog Catalog { get; }

    /// <summary>Reports every account's balance and the spend per route.</summary>
    /// <param name="cancellationToken">Cancels reading the ledger.</param>
    /// <returns>The report.</returns>
    public async ValueTask<BudgetReport> GetReportAsync(CancellationToken cancellationToken = default)
    {
        var balances = await Ledger.GetBalancesAsync(cancellationToken).ConfigureAwait(false);
        var closed = await Ledger.GetClosedWindowsAsync(cancellationToken).ConfigureAwait(false);
        var routes = _spend.Select(p => p.Value.ToSpend(p.Key)).OrderByDescending(r => r.Cost).ThenBy(r => r.Route, StringComparer.Ordinal).ToList();
        return new BudgetReport(_time.GetUtcNow(), Catalog.Currency, balances, routes) { ClosedWindows = closed };
    }

    /// <summary>Disposes the default ledger (writing its file one last time) and the meter.</summary>
    public void Dispose()
    {
        if (_ownsLedger && Ledger is IDisposable disposable)
        {
            disposable.Dispose();
        }

        _telemetry.Dispose();
    }

    internal BudgetTarget GetTarget(ChatRoute route) => _routeTargets.GetOrAdd(route, static (r, self) =>
    {
        var d = r.Descriptor;
        var pricing = d.Pricing ?? (d.IsLocal ? RoutePricing.Free : self.Catalog.TryGetPrice(d.ModelId, out var p) ? p : null);
        return new BudgetTarget(d.Name, d.ModelId, pricing, d.Tags, r.TokenCounter, d.MaxOutputTokens);
    }, this);

    internal BudgetTarget GetTarget(string? modelId) => _modelTargets.GetOrAdd(modelId ?? string.Empty, static (id, self) =>
    {
        var model = id.Length == 0 ? null : id;
        var pricing = self.Catalog.TryGetPrice(model, out var p) ? p : null;
        return new BudgetTarget(null, model, pricing, RouteDescriptor.EmptyTags, TokenCounters.ForModel(model), null);
    }, this);

    /// <summary>Reserves the call's worst case (prompt tokens plus its output limit at the highest output price) in every limit that applies.</summary>
    internal async ValueTask<BudgetAttempt> ReserveAsync(string? tenant, string? user, BudgetTarget target, long promptTokens, int? requestedMaxOutput, CancellationToken cancellationToken)
    {
        CheckId(tenant, "tenant");
        CheckId(user, "user");
        if (!TryGetPricing(target, out var pricing, out var unpriced))
        {
            _telemetry.RecordDenial("unpriced-model", BudgetEnforcement.Downgrade);
            return BudgetAttempt.Deny(unpriced, target);
        }

        int maxOutput = requestedMaxOutput is { } requested
            ? target.MaxOutputTokens is { } routeMax ? Math.Min(requested, routeMax) : requested
            : target.MaxOutputTokens ?? _options.DefaultMaxOutputTokens;
        decimal outputPrice = Math.Max(pricing.OutputPerMillion, pricing.EffectiveReasoningPerMillion);
        decimal estimate = Math.Round(((promptTokens * pricing.InputPerMillion) + (maxOutput * outputPrice)) / 1_000_000m, Decimals, MidpointRounding.ToPositiveInfinity);

        var now = _time.GetUtcNow();
        var accounts = GetAccounts(tenant, user, target, now);
        BudgetReservation? reservation = null;
        if (accounts is not null)
        {
            reservation = await Ledger.ReserveAsync(accounts, estimate, now + _options.ReservationTimeout, cancellationToken).ConfigureAwait(false);
            if (reservation.Denied is { } balance)
            {
                var limit = _limitsByName[accounts[reservation.DeniedIndex].Key.Limit];
                BudgetLog.Denied(_logger, limit.DisplayName, limit.Enforcement, target.SpendKey, balance.Spent, balance.Reserved, balance.Limit, estimate);
                _telemetry.RecordDenial(limit.DisplayName, limit.Enforcement);
                return BudgetAttempt.Deny(new BudgetExceededException(limit, balance, estimate, target.Route, Catalog.Currency), target);
            }
        }

        return new BudgetAttempt(this, target, reservation, tenant, promptTokens, maxOutput, estimate, _time.GetTimestamp());
    }

    /// <summary>Computes the real cost, settles the reservation, raises threshold events and counts the spend.</summary>
    internal async ValueTask<CallCost> SettleAsync(BudgetAttempt attempt, UsageDetails? usage, string? outputText)
    {
        var target = attempt.Target;
        var pricing = target.Pricing ?? RoutePricing.Free;
        bool estimated = usage?.InputTokenCount is null || usage.OutputTokenCount is null;
        long input = usage?.InputTokenCount ?? attempt.PromptTokens;
        long output = usage?.OutputTokenCount ?? target.CountOutputTokens(outputText ?? string.Empty);
        long cached = Math.Clamp(usage?.CachedInputTokenCount ?? 0, 0, input);
        long reasoning = Math.Clamp(usage?.ReasoningTokenCount ?? 0, 0, output);
        decimal amount = Math.Round(pricing.Estimate(input - cached, output - reasoning, cached, reasoning), Decimals, MidpointRounding.AwayFromZero);
        var cost = new CallCost(target.Route, target.ModelId, amount, Catalog.Currency, estimated, input, cached, output, reasoning);

        if (attempt.Reservation is { } reservation)
        {
            BudgetSettlement settlement;
            try
            {
                settlement = await Ledger.SettleAsync(reservation, amount).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The answer is in hand and billed: never lose it over the ledger. The reservation stays held and expiry charges it.
                BudgetLog.SettleFailed(_logger, target.SpendKey, e.GetType().Name, e);
                settlement = default;
            }

            if (amount > reservation.Amount)
            {
                // The one way past a limit: a provider that ignored the output limit it was sent.
                BudgetLog.CostOverReservation(_logger, target.SpendKey, amount, reservation.Amount);
                _telemetry.RecordOverReservation(target.SpendKey);
            }

            if (settlement.Late)
            {
                BudgetLog.SettledAfterExpiry(_logger, target.SpendKey, reservation.Id, amount, reservation.Amount, _options.ReservationTimeout);
                _telemetry.RecordLateSettlement(target.SpendKey);
            }

            if (settlement.Applied)
            {
                CheckThresholds(settlement.Balances);
            }
        }

        var latency = _time.GetElapsedTime(attempt.StartedTimestamp);
        _spend.GetOrAdd(target.SpendKey, static _ => new SpendCounter()).Add(cost, latency);
        _telemetry.RecordCost(cost, _options.TenantInMetrics ? attempt.Tenant : null);
        return cost;
    }

    /// <summary>Ids become account keys kept in memory, files and Redis: a bounded length keeps a caller from growing them without end.</summary>
    private static void CheckId(string? id, string what)
    {
        if (id is { Length: > MaxIdLength })
        {
            throw new ArgumentException(
                $"The {what} id is {id.Length} characters long; budget ids are at most {MaxIdLength}. Pass a short stable id (a GUID or a database key), not content.", what);
        }
    }

    /// <summary>Gives a reservation back; a ledger that fails is logged (the reservation then stays held until expiry charges it, never lost).</summary>
    internal async ValueTask ReleaseAsync(BudgetReservation reservation, string spendKey)
    {
        try
        {
            await Ledger.ReleaseAsync(reservation).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            BudgetLog.SettleFailed(_logger, spendKey, e.GetType().Name, e);
        }
    }

    private BudgetAccount[]? GetAccounts(string? tenant, string? user, BudgetTarget target, DateTimeOffset now)
    {
        BudgetAccount[]? accounts = null;
        int count = 0;
        foreach (var limit in _limits)
        {
            if (!limit.TryGetScopeValue(tenant, user, target, out var value))
            {
                continue;
            }

            accounts ??= new BudgetAccount[_limits.Length];
            var start = limit.GetWindowStart(now, _zone);
            accounts[count++] = new BudgetAccount(new BudgetAccountKey(limit.DisplayName, value, start), limit.Amount, limit.RollingPeriod, limit.GetWindowEnd(start, _zone));
        }

        return accounts is null || count == accounts.Length ? accounts : accounts[..count];
    }

    private bool TryGetPricing(BudgetTarget target, out RoutePricing pricing, out InvalidOperationException unpriced)
    {
        unpriced = null!;
        if (target.Pricing is { } known)
        {
            pricing = known;
            return true;
        }

        pricing = RoutePricing.Free;
        var model = target.ModelId ?? "(no model id)";
        if (_options.UnknownModelPricing == UnknownModelPricing.Free)
        {
            if (_warnedModels.TryAdd(model, 0))
            {
                BudgetLog.UnknownModelFree(_logger, model, target.Route);
            }

            return true;
        }

        unpriced = new InvalidOperationException(
            $"Model '{model}'{(target.Route is null ? string.Empty : $" (route '{target.Route}')")} has no price, so the budget cannot bound its cost. " +
            "Give the route a Pricing, add the model under InferenceRouter:Budgets:Prices, or set Budgets:UnknownModelPricing to Free.");
        return false;
    }

    private void CheckThresholds(IReadOnlyList<BudgetAccountBalance> balances)
    {
        foreach (var balance in balances)
        {
            if (balance.Limit <= 0)
            {
                continue;
            }

            double used = (double)balance.Spent / (double)balance.Limit;
            int level = 0;
            while (level < _thresholds.Count && used >= _thresholds[level])
            {
                level++;
            }

            if (level == 0 && _thresholdLevels.IsEmpty)
            {
                continue; // The common case: nothing crossed yet, anywhere.
            }

            PruneThresholdLevels();
            int previous = _thresholdLevels.GetOrAdd(balance.Key, 0);
            if (level == previous || !_thresholdLevels.TryUpdate(balance.Key, level, previous) || level < previous)
            {
                continue; // Unchanged, another settlement got there first, or a rolling window dropped back (so it can cross again).
            }

            var limit = _limitsByName[balance.Key.Limit];
            double threshold = _thresholds[level - 1];
            BudgetLog.ThresholdCrossed(_logger, limit.DisplayName, balance.Key.ScopeValue, threshold, balance.Spent, balance.Limit);
            RaiseThresholdCrossed(new BudgetThresholdEventArgs(limit, balance, threshold));
        }
    }

    /// <summary>Forgets threshold levels of calendar windows that have closed (at most once a minute), so they do not pile up with the days.</summary>
    private void PruneThresholdLevels()
    {
        var now = _time.GetUtcNow();
        long due = Volatile.Read(ref _nextThresholdPruneTicks);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextThresholdPruneTicks, now.UtcTicks + TimeSpan.TicksPerMinute, due) != due)
        {
            return;
        }

        foreach (var key in _thresholdLevels.Keys)
        {
            if (key.WindowStart != DateTimeOffset.UnixEpoch && _limitsByName.TryGetValue(key.Limit, out var limit) && limit.GetWindowStart(now, _zone) > key.WindowStart)
            {
                _thresholdLevels.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Runs every handler; one that throws is logged and never costs the call its answer (the provider already billed it).</summary>
    private void RaiseThresholdCrossed(BudgetThresholdEventArgs args)
    {
        if (ThresholdCrossed is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<BudgetThresholdEventArgs>)handler)(this, args);
            }
            catch (Exception e)
            {
                BudgetLog.ThresholdHandlerFailed(_logger, args.Limit.DisplayName, e.GetType().Name, e);
            }
        }
    }

    private static PriceCatalog BuildCatalog(BudgetOptions options)
    {
        var catalog = options.UseDefaultPriceCatalog ? PriceCatalog.Default : PriceCatalog.Empty;
        if (options.PriceCatalogPath is { } path)
        {
            var file = PriceCatalog.LoadFile(path);
            catalog = new PriceCatalog(catalog.Prices, file.Currency).With(file.Prices);
        }

        return options.Prices.Count == 0 ? catalog : catalog.With(options.Prices.Select(p => KeyValuePair.Create(p.Key, p.Value.ToPricing())));
    }

    /// <summary>Running totals for one route; locked because decimals cannot be updated atomically.</summary>
    private sealed class SpendCounter
    {
        private long _calls;
        private long _input;
        private long _output;
        private decimal _cost;
        private long _latencyTicks;

        public void Add(CallCost cost, TimeSpan latency)
        {
            lock (this)
            {
                _calls++;
                _input += cost.InputTokens;
                _output += cost.OutputTokens;
                _cost += cost.Amount;
                _latencyTicks += latency.Ticks;
            }
        }

        public RouteSpend ToSpend(string route)
        {
            lock (this)
            {
                return new RouteSpend(route, _calls, _input, _output, _cost, _calls == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(_latencyTicks / _calls));
            }
        }
    }
}
