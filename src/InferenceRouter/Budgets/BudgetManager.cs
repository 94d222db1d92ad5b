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
    private const int Decimals = BudgetUnits.Decimals;

    /// <summary>What a reservation under way needs once the ledger answers.</summary>
    private readonly record struct PendingReservation(BudgetTarget Target, string? Tenant, long PromptTokens, int MaxOutputTokens, decimal Estimate, bool Final, bool PromptHasAudio);

    /// <summary>The longest tenant or user id a budget accepts.</summary>
    public const int MaxIdLength = 256;

    private readonly BudgetOptions _options;
    private readonly BudgetLimit[] _limits;
    private readonly string[] _limitNames;
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

    // The first limit scoped to every tenant when tenant-less calls are rejected; null when they are not (one null check per call).
    private readonly BudgetLimit? _tenantlessRejectedBy;

    /// <summary>Creates a budget.</summary>
    /// <param name="options">Limits and prices; validated here.</param>
    /// <param name="ledger">Where spend is kept; an <see cref="InMemoryBudgetLedger"/> (persisted to <see cref="BudgetOptions.PersistencePath"/> if set) by default.</param>
    /// <param name="loggerFactory">Logging; none by default.</param>
    /// <param name="meterFactory">Metrics; a private meter by default.</param>
    /// <param name="timeProvider">The clock for windows; <see cref="TimeProvider.System"/> by default.</param>
    /// <param name="catalog">
    /// The model catalog to price from (give the one your routes were built with); null: the shipped one, unless
    /// <see cref="BudgetOptions.UseDefaultPriceCatalog"/> is off. <see cref="BudgetOptions.PriceCatalogPath"/> and <see cref="BudgetOptions.Prices"/> apply on top.
    /// </param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public BudgetManager(BudgetOptions? options = null, IBudgetLedger? ledger = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null, TimeProvider? timeProvider = null, ModelCatalog? catalog = null)
    {
        _options = options ?? new BudgetOptions();
        OptionsValidation.ThrowIfInvalid(_options.GetValidationErrors(), nameof(options), "Invalid budget options:");
        _limits = [.. _options.Limits];
        _limitNames = [.. _limits.Select(l => l.DisplayName)]; // formatted once: names key every account of every call
        _limitsByName = _limits.ToFrozenDictionary(l => l.DisplayName, StringComparer.OrdinalIgnoreCase);
        _tenantlessRejectedBy = _options.UnknownTenant == UnknownTenantPolicy.Reject
            ? _limits.FirstOrDefault(l => l.Scope == BudgetScope.Tenant && string.IsNullOrEmpty(l.Key))
            : null;
        _thresholds = [.. _options.EffectiveThresholds.Order()];
        BudgetOptions.TryFindTimeZone(_options.TimeZone, out _zone);
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<BudgetManager>() ?? NullLogger.Instance;
        _telemetry = new BudgetTelemetry(meterFactory);
        Catalog = BuildCatalog(_options, catalog);
        _ownsLedger = ledger is null;
        Ledger = ledger ?? new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = _options.PersistencePath }, _time);
        LogUnknownTenantPolicy();
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

    /// <summary>Gets the prices in use: the catalog given (else the shipped one, unless turned off), then a <see cref="BudgetOptions.PriceCatalogPath"/> file, then <see cref="BudgetOptions.Prices"/>.</summary>
    public ModelCatalog Catalog { get; }

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
        // The budget's own catalog prices what the route does not declare (the route's catalog filled its descriptor for the router).
        var d = r.Descriptor;
        var pricing = r.Declared.Pricing ?? (d.IsLocal ? RoutePricing.Free : self.Catalog.TryGetPrice(d.ModelId, out var p) ? p : null);
        return new BudgetTarget(d.Name, d.ModelId, pricing, d.Tags, r.TokenCounter, d.MaxOutputTokens, self.OutputWhenUnset(r.Declared.MaxOutputTokens, d.MaxOutputTokens))
        {
            Manager = self,
            RawRequestLimiter = r.Client.GetService<IRawRequestOutputLimiter>(),
            ContextWindow = d.ContextWindow,
            MaxImageTokens = self.Catalog.TryGetModel(d.ModelId, out var model) ? model.MaxImageTokens : null,
        };
    }, this);

    /// <summary>
    /// Says which of <paramref name="routes"/> the budget cannot price, and the ways to price them; null when it can price them all, or
    /// when <see cref="BudgetOptions.UnknownModelPricing"/> counts unpriced models as free. A route it cannot price would be refused on
    /// every call: <see cref="BudgetChatClient"/> refuses to start with it instead.
    /// </summary>
    internal string? DescribeUnpricedRoutes(IEnumerable<ChatRoute> routes)
    {
        if (_options.UnknownModelPricing == UnknownModelPricing.Free)
        {
            return null;
        }

        var unpriced = routes.Where(r => GetTarget(r).Pricing is null).Select(r => $"route '{r.Name}' ({(r.Descriptor.ModelId is { } model ? $"model '{model}'" : "no model id")})").ToList();
        return unpriced.Count == 0 ? null :
            $"The budget cannot bound the cost of {string.Join(", ", unpriced)}: no price on the route and none in the price catalog, so every call there would be refused. " +
            "Price it on the route (InputPricePerMillion and OutputPricePerMillion under InferenceRouter:Routes, or RouteDescriptor.Pricing in code), " +
            "or in the model catalog (InferenceRouter:ModelCatalog:Models:<model> with InputPerMillion and OutputPerMillion, or a ModelCatalog:Path file); " +
            "or set InferenceRouter:Budgets:UnknownModelPricing to Free to count its calls as free.";
    }

    internal BudgetTarget GetTarget(string? modelId) => _modelTargets.GetOrAdd(modelId ?? string.Empty, static (id, self) =>
    {
        var model = id.Length == 0 ? null : id;
        var known = self.Catalog.TryGetModel(model, out var m) ? m : null;
        return new BudgetTarget(null, model, known?.Pricing, RouteDescriptor.EmptyTags, TokenCounters.UpperBound, known?.MaxOutputTokens, self.OutputWhenUnset(null, known?.MaxOutputTokens))
        {
            ContextWindow = known?.ContextWindow,
            MaxImageTokens = known?.MaxImageTokens,
        };
    }, this);

    /// <summary>
    /// Reserves the call's worst case (every billed input token plus its output limit at the highest output price) in every limit that applies.
    /// The prompt is bounded cheaply first (<paramref name="promptTokenBound"/>: one token per UTF-8 byte); only when that does not fit is it
    /// counted exactly with the target's tokenizer, so the exact count (hundreds of nanoseconds) is paid only near a limit.
    /// </summary>
    /// <remarks>
    /// Media count their kind's stated bound (<see cref="BudgetOptions.MediaTokens"/>; images the model's own figure from the catalog when it
    /// has one), not what the walk counted for them (<paramref name="media"/>). A <see cref="ChatOptions.RawRepresentationFactory"/>'s request
    /// can carry input and an output limit of its own, which M.E.AI's adapters send as they are: on a client that holds raw requests to the
    /// output limit (<paramref name="rawLimiter"/>) the factory is called once more here, on <paramref name="client"/>, and what its request
    /// serialises to is reserved as input besides the messages (one token per UTF-8 byte); on another client the reservation covers the
    /// route's whole context window as input and its declared maximum output, and without them the call is refused when a limit applies.
    /// </remarks>
    internal ValueTask<BudgetAttempt> ReserveAsync(
        string? tenant, string? user, BudgetTarget target, long promptTokenBound, PromptMedia media, IRawRequestOutputLimiter? rawLimiter, IChatClient? client,
        IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        CheckId(tenant, "tenant");
        CheckId(user, "user");
        if (tenant is null && _tenantlessRejectedBy is { } everyTenant)
        {
            _telemetry.RecordDenial(everyTenant.DisplayName, BudgetEnforcement.Reject);
            return new(BudgetAttempt.Deny(new UnknownTenantException(everyTenant), target));
        }
        if (!TryGetPricing(target, out var pricing, out var unpriced))
        {
            _telemetry.RecordDenial("unpriced-model", BudgetEnforcement.Downgrade);
            return new(BudgetAttempt.Deny(unpriced, target));
        }

        int? requestedMaxOutput = options?.MaxOutputTokens;
        long rawInput = 0; // what a raw request carries as input besides the call's messages and options
        if (options?.RawRepresentationFactory is { } factory)
        {
            if (rawLimiter is not null)
            {
                rawInput = rawLimiter.CountInputTokenBound(factory(client ?? throw new ArgumentNullException(nameof(client))));
            }
            else
            {
                // The raw request's own output limit and input may win on this client: only the route's declared maximums bound them.
                bool billsOutput = pricing.OutputPerMillion > 0 || pricing.EffectiveReasoningPerMillion > 0;
                if (((billsOutput && target.MaxOutputTokens is null) || (pricing.InputPerMillion > 0 && target.ContextWindow is null)) &&
                    DenyUnboundedRawRequest(tenant, user, target) is { } denied)
                {
                    return new(denied);
                }

                requestedMaxOutput = billsOutput ? target.MaxOutputTokens : requestedMaxOutput; // the route's whole maximum (null only when no limit applies)
                rawInput = Math.Max(0, (target.ContextWindow ?? 0) - promptTokenBound); // the whole window, whatever the messages hold
            }
        }

        // Synchronous all the way when the ledger is (the in-memory one is): no async state machines on the hot path.
        bool exactCounter = !ReferenceEquals(target.TokenCounter, TokenCounters.UpperBound);
        long bound = promptTokenBound + media.Allowance(_options.MediaTokens, target.MaxImageTokens) + rawInput;
        var first = ReserveCoreAsync(tenant, user, target, bound, RoutePrice.MayHoldAudio(media), requestedMaxOutput, final: !exactCounter, cancellationToken);
        return !exactCounter || (first.IsCompletedSuccessfully && first.Result.Denial is null)
            ? first
            : ReserveExactlyIfDeniedAsync(first, tenant, user, target, messages, options, rawInput, requestedMaxOutput, cancellationToken);
    }

    /// <summary>
    /// Refuses a call whose raw request may carry any output limit and any input, to a route whose client cannot measure it and that declares
    /// no maximum output or no context window, when a limit applies: nothing bounds what it is billed. A <see cref="BudgetEnforcement.Reject"/> limit fails the call; downgrade limits skip the route.
    /// </summary>
    private BudgetAttempt? DenyUnboundedRawRequest(string? tenant, string? user, BudgetTarget target)
    {
        if (GetAccounts(tenant, user, target, _time.GetUtcNow()) is not { } accounts)
        {
            return null; // no limit applies: the call is counted when it settles
        }

        bool rejects = accounts.Any(a => _limitsByName[a.Key.Limit].Enforcement == BudgetEnforcement.Reject);
        var where = target.Route is { } route ? $"Route '{route}'" : $"The client of model '{target.ModelId ?? "(unknown)"}'";
        var denial = new UnboundedOutputException(
            $"{where} was called with a ChatOptions.RawRepresentationFactory, and its client does not hold the raw request to ChatOptions.MaxOutputTokens " +
            "(M.E.AI's adapters let the raw request's own output limit and input win), so the budget cannot bound what the call is billed. " +
            "Build the route's client with its provider package's AsRouteClient() (or wrap it with WithRawRequestOutputLimit), " +
            "declare the route's maximum output and context window (RouteDescriptor.MaxOutputTokens and ContextWindow, or MaxOutputTokens and ContextWindow under InferenceRouter:Routes) so the budget reserves for them, " +
            "or leave RawRepresentationFactory unset.", endsCall: rejects);
        _telemetry.RecordDenial("unbounded-output", rejects ? BudgetEnforcement.Reject : BudgetEnforcement.Downgrade);
        return BudgetAttempt.Deny(denial, target);
    }

    private async ValueTask<BudgetAttempt> ReserveExactlyIfDeniedAsync(
        ValueTask<BudgetAttempt> first, string? tenant, string? user, BudgetTarget target, IEnumerable<ChatMessage> messages, ChatOptions? options,
        long rawInput, int? requestedMaxOutput, CancellationToken cancellationToken)
    {
        var attempt = await first.ConfigureAwait(false);
        if (attempt.Denial is null)
        {
            return attempt;
        }

        var media = default(PromptMedia);
        long exact = PromptTokens.CountWithMedia(target.TokenCounter, messages, options, ref media) + media.Allowance(_options.MediaTokens, target.MaxImageTokens) + rawInput;
        return await ReserveCoreAsync(tenant, user, target, exact, RoutePrice.MayHoldAudio(media), requestedMaxOutput, final: true, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<BudgetAttempt> ReserveCoreAsync(
        string? tenant, string? user, BudgetTarget target, long promptTokens, bool promptHasAudio, int? requestedMaxOutput, bool final, CancellationToken cancellationToken)
    {
        int maxOutput = requestedMaxOutput is { } requested
            ? target.MaxOutputTokens is { } routeMax ? Math.Min(requested, routeMax) : requested
            : target.OutputWhenUnset;
        // Every prompt token at its dearest price (a cache write, audio when the prompt holds some), every output token at its dearest
        // (reasoning, audio), in the long-context tier too when the prompt's bound is past its threshold: the most the call can be charged.
        bool audio = promptHasAudio && target.Prices.ChargesAudio;
        decimal estimate = target.Prices.Reserve(promptTokens, audio, maxOutput);

        var now = _time.GetUtcNow();
        var request = new PendingReservation(target, tenant, promptTokens, maxOutput, estimate, final, audio);
        if (GetAccounts(tenant, user, target, now) is not { } accounts)
        {
            return new(Grant(request, null));
        }

        var pending = Ledger.ReserveAsync(accounts, estimate, now + _options.ReservationTimeout, cancellationToken);
        return pending.IsCompletedSuccessfully ? new(Complete(request, pending.Result)) : CompleteAsync(request, pending);

        async ValueTask<BudgetAttempt> CompleteAsync(PendingReservation request, ValueTask<BudgetReservation> pending) =>
            Complete(request, await pending.ConfigureAwait(false));
    }

    private BudgetAttempt Complete(PendingReservation request, BudgetReservation reservation)
    {
        if (reservation.Denied is not { } balance)
        {
            return Grant(request, reservation);
        }

        var limit = _limitsByName[reservation.Accounts[reservation.DeniedIndex].Key.Limit];
        if (request.Final)
        {
            BudgetLog.Denied(_logger, limit.DisplayName, limit.Enforcement, request.Target.SpendKey, balance.Spent, balance.Reserved, balance.Limit, request.Estimate);
            _telemetry.RecordDenial(limit.DisplayName, limit.Enforcement);
        }

        return BudgetAttempt.Deny(new BudgetExceededException(limit, balance, request.Estimate, request.Target.Route, Catalog.Currency), request.Target);
    }

    private BudgetAttempt Grant(PendingReservation request, BudgetReservation? reservation) =>
        new(this, request.Target, reservation, request.Tenant, request.PromptTokens, request.MaxOutputTokens, request.Estimate, _time.GetTimestamp()) { PromptHasAudio = request.PromptHasAudio };

    /// <summary>
    /// What a call whose request left but that never answered is charged: what was reserved for it (its input bound and its whole output
    /// limit at the dearest output price), since its provider usually finishes it and bills it. Marked estimated.
    /// </summary>
    internal CallCost EstimateUnanswered(BudgetAttempt attempt)
    {
        var target = attempt.Target;
        BudgetLog.ChargedEstimate(_logger, target.SpendKey, "no answer came", attempt.Estimate, attempt.MaxOutputTokens);
        return new CallCost(target.Route, target.ModelId, attempt.Estimate, Catalog.Currency, isEstimated: true, attempt.PromptTokens, 0, attempt.MaxOutputTokens, 0);
    }

    /// <summary>
    /// What a stream that ended before it was complete is charged: its input (reported, else the bound reserved), the output that came
    /// (reported, else counted), and <see cref="BudgetOptions.UnreceivedOutputAllowance"/> more output tokens for what its provider generated
    /// but did not deliver, at most up to the output reserved. Marked estimated.
    /// </summary>
    internal CallCost EstimateIncomplete(BudgetAttempt attempt, UsageDetails? usage, string? receivedText)
    {
        var target = attempt.Target;
        var received = target.Price(usage, attempt.PromptTokens, receivedText, Catalog.Currency, attempt.PromptHasAudio);
        long allowance = Math.Min(_options.UnreceivedOutputAllowance, Math.Max(0, attempt.MaxOutputTokens - received.OutputTokens));
        var pricing = target.Pricing ?? RoutePricing.Free;
        bool reasoningDearer = pricing.EffectiveReasoningPerMillion > pricing.OutputPerMillion; // unseen output may be thinking
        var charged = target.Price(
            new UsageDetails
            {
                InputTokenCount = received.InputTokens,
                CachedInputTokenCount = received.CachedInputTokens,
                OutputTokenCount = received.OutputTokens + allowance,
                ReasoningTokenCount = received.ReasoningTokens + (reasoningDearer ? allowance : 0),
                InputAudioTokenCount = usage?.InputAudioTokenCount,
                OutputAudioTokenCount = usage?.OutputAudioTokenCount,
                AdditionalCounts = usage?.AdditionalCounts, // cache writes and audio, as the provider's usage counted them
            },
            0,
            null,
            Catalog.Currency,
            attempt.PromptHasAudio);
        BudgetLog.ChargedEstimate(_logger, target.SpendKey, "its stream ended early", charged.Amount, charged.OutputTokens);
        return new CallCost(charged.Route, charged.ModelId, charged.Amount, charged.Currency, isEstimated: true, charged.InputTokens, charged.CachedInputTokens, charged.OutputTokens, charged.ReasoningTokens);
    }

    /// <summary>Charges the cost, settles the reservation, raises threshold events and counts the spend.</summary>
    internal ValueTask<CallCost> SettleAsync(BudgetAttempt attempt, CallCost cost)
    {
        var target = attempt.Target;
        decimal amount = cost.Amount;

        if (attempt.Reservation is { } reservation)
        {
            ValueTask<BudgetSettlement> pending;
            try
            {
                pending = Ledger.SettleAsync(reservation, amount);
            }
            catch (Exception e)
            {
                pending = new(SettleFailed(target, e));
            }

            if (!pending.IsCompletedSuccessfully)
            {
                return SettleLateAsync(pending, attempt, reservation, cost);
            }

            OnSettled(pending.Result, target, reservation, amount);
        }

        return new(Count(attempt, cost));

        async ValueTask<CallCost> SettleLateAsync(ValueTask<BudgetSettlement> pending, BudgetAttempt attempt, BudgetReservation reservation, CallCost cost)
        {
            BudgetSettlement settlement;
            try
            {
                settlement = await pending.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                settlement = SettleFailed(attempt.Target, e);
            }

            OnSettled(settlement, attempt.Target, reservation, cost.Amount);
            return Count(attempt, cost);
        }
    }

    /// <summary>The answer is in hand and billed: a ledger that fails never loses it. The reservation stays held and expiry charges it.</summary>
    private BudgetSettlement SettleFailed(BudgetTarget target, Exception e)
    {
        BudgetLog.SettleFailed(_logger, target.SpendKey, e.GetType().Name, e);
        return default;
    }

    private void OnSettled(BudgetSettlement settlement, BudgetTarget target, BudgetReservation reservation, decimal amount)
    {
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

    /// <summary>Counts the cost in the report and the meter.</summary>
    private CallCost Count(BudgetAttempt attempt, CallCost cost)
    {
        var target = attempt.Target;
        (target.SpendCounter ??= _spend.GetOrAdd(target.SpendKey, static _ => new SpendCounter())).Add(cost, _time.GetElapsedTime(attempt.StartedTimestamp));
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
        if (target.LastAccounts is { } last && now < last.ValidUntil && string.Equals(last.Tenant, tenant, StringComparison.Ordinal) &&
            string.Equals(last.User, user, StringComparison.Ordinal))
        {
            return last.Accounts;
        }

        var accounts = BuildAccounts(tenant, user, target, now, out var validUntil);
        target.LastAccounts = new BudgetTarget.CachedAccounts(tenant, user, validUntil, accounts);
        return accounts;
    }

    private BudgetAccount[]? BuildAccounts(string? tenant, string? user, BudgetTarget target, DateTimeOffset now, out DateTimeOffset validUntil)
    {
        validUntil = DateTimeOffset.MaxValue;
        BudgetAccount[]? accounts = null;
        int count = 0;
        for (int i = 0; i < _limits.Length; i++)
        {
            var limit = _limits[i];
            if (!limit.TryGetScopeValue(tenant, user, target, _options.UnknownTenant, out var value))
            {
                continue;
            }

            accounts ??= new BudgetAccount[_limits.Length];
            var (start, end) = limit.GetWindow(now, _zone);
            accounts[count++] = new BudgetAccount(new BudgetAccountKey(_limitNames[i], value, start), limit.Amount, limit.RollingPeriod, end);
            if (end < validUntil)
            {
                validUntil = end.Value;
            }
        }

        return accounts is null || count == accounts.Length ? accounts : accounts[..count];
    }

    /// <summary>Logs, once at start, what limits scoped to every tenant do with tenant-less calls (only when there is such a limit).</summary>
    private void LogUnknownTenantPolicy()
    {
        var everyTenant = _limits.Where(l => l.Scope == BudgetScope.Tenant && string.IsNullOrEmpty(l.Key)).Select(l => l.DisplayName).ToArray();
        if (everyTenant.Length == 0)
        {
            return;
        }

        var names = string.Join(", ", everyTenant);
        switch (_options.UnknownTenant)
        {
            case UnknownTenantPolicy.Allow:
                BudgetLog.UnknownTenantAllowed(_logger, names);
                break;
            case UnknownTenantPolicy.SharedAccount:
                BudgetLog.UnknownTenantShared(_logger, names, BudgetIds.NoTenant);
                break;
            default:
                BudgetLog.UnknownTenantRejected(_logger, names);
                break;
        }
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
        for (int i = 0; i < balances.Count; i++)
        {
            var balance = balances[i]; // indexed: no enumerator boxed per settlement
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

    /// <summary>
    /// The output limit a call that sets none is reserved for (and sent with): the route's declared limit, else the budget's default capped
    /// at the model's limit from the catalog. A catalog limit alone does not raise the reservation (gpt-4.1 would reserve 32,768 tokens).
    /// </summary>
    private int OutputWhenUnset(int? declared, int? known) => declared ?? Math.Min(known ?? int.MaxValue, _options.DefaultMaxOutputTokens);

    /// <summary>The catalog given (else the shipped one unless turned off), then the budget's own price keys: applying them twice changes nothing.</summary>
    internal static ModelCatalog BuildCatalog(BudgetOptions options, ModelCatalog? catalog)
    {
        catalog ??= options.UseDefaultPriceCatalog ? ModelCatalog.Default : ModelCatalog.Empty;
        if (options.PriceCatalogPath is { } path)
        {
            catalog = catalog.With(ModelCatalog.LoadFile(path));
        }

        return options.Prices.Count == 0 ? catalog : catalog.With(options.Prices.Select(p => KeyValuePair.Create(p.Key, p.Value.ToEntry())));
    }
}
