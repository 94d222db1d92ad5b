namespace InferenceRouter;

/// <summary>Names of the router's <see cref="System.Diagnostics.ActivitySource"/>, <see cref="System.Diagnostics.Metrics.Meter"/> and instruments, for OpenTelemetry setup.</summary>
/// <example><c>builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(InferenceRouterTelemetry.SourceName)).WithMetrics(m => m.AddMeter(InferenceRouterTelemetry.MeterName));</c></example>
public static class InferenceRouterTelemetry
{
    /// <summary>The activity source's name.</summary>
    public const string SourceName = "InferenceRouter";

    /// <summary>The meter's name.</summary>
    public const string MeterName = "InferenceRouter";

    /// <summary>Counter of attempts, tagged with route and outcome.</summary>
    public const string AttemptsInstrument = "inference_router.attempts";

    /// <summary>Counter of failovers from one route to the next, tagged with the failed route and error type.</summary>
    public const string FailoversInstrument = "inference_router.failovers";

    /// <summary>Histogram of call duration in seconds (OpenTelemetry gen_ai), tagged with route, model, provider and error type.</summary>
    public const string DurationInstrument = "gen_ai.client.operation.duration";

    /// <summary>Histogram of time to first streamed update in seconds, tagged with route.</summary>
    public const string TimeToFirstTokenInstrument = "inference_router.time_to_first_token";

    /// <summary>Gauge of each route's circuit state (0 closed, 1 open, 2 half-open, 3 isolated).</summary>
    public const string CircuitStateInstrument = "inference_router.route.circuit_state";

    /// <summary>Gauge of each route's attempts in flight.</summary>
    public const string InFlightInstrument = "inference_router.route.in_flight";

    /// <summary>The counter of what calls cost, in the price catalog's currency, by route and model, and by tenant when <see cref="BudgetOptions.TenantInMetrics"/> is on.</summary>
    public const string CostInstrument = "inference_router.cost";

    /// <summary>The counter of tokens, by route, model, tenant (when asked) and <c>gen_ai.token.type</c> (input, output).</summary>
    public const string TokensInstrument = "inference_router.tokens";

    /// <summary>The counter of calls (or route attempts) a budget limit turned away, by limit and enforcement.</summary>
    public const string BudgetDenialsInstrument = "inference_router.budget.denials";

    /// <summary>The counter of calls settled after their reservation expired (and had been charged what it held), by route.</summary>
    public const string BudgetLateSettlementsInstrument = "inference_router.budget.late_settlements";

    /// <summary>The counter of calls that cost more than they reserved (a provider that ignored the output limit it was sent), by route.</summary>
    public const string BudgetOverReservationsInstrument = "inference_router.budget.over_reservations";

    /// <summary>The counter of cache lookups, by tier and outcome (hit, miss, near_miss, bypass).</summary>
    public const string CacheLookupsInstrument = "inference_router.cache.lookups";

    /// <summary>The histogram of the best semantic candidate's similarity, by outcome.</summary>
    public const string CacheSimilarityInstrument = "inference_router.cache.similarity";

    /// <summary>Counter: quality predictions by the tier they chose (<c>inference_router.quality.tier</c>).</summary>
    public const string QualityPredictionsInstrument = "inference_router.quality.predictions";

    /// <summary>Counter: recorded outcomes by tier.</summary>
    public const string QualityOutcomesInstrument = "inference_router.quality.outcomes";

    /// <summary>Counter: shared-ledger operations (reserve, settle, release, sending fail-open steps) that Redis did not answer in time.</summary>
    public const string LedgerUnavailableInstrument = "inference_router.budget.ledger_unavailable";

    /// <summary>Counter: reservations admitted by the capped local ledger while the shared ledger was unreachable (fail open).</summary>
    public const string FailOpenReservationsInstrument = "inference_router.budget.fail_open_reservations";

    /// <summary>Counter: fail-open steps (reservations, settlements, releases) sent to the shared ledger once it answered again.</summary>
    public const string FailOpenSentInstrument = "inference_router.budget.fail_open_sent";

    /// <summary>
    /// Counter: damaged shared-ledger records (an account or reservation in Redis with a field that is not an integer, or a key of the
    /// wrong type) found by a script, by <c>inference_router.budget.record</c> (<c>account</c> or <c>reservation</c>). Only the calls that
    /// touch such a record fail; an expired reservation on one is set aside instead of charged.
    /// </summary>
    public const string LedgerDamagedRecordsInstrument = "inference_router.budget.ledger_damaged_records";

    /// <summary>
    /// Counter: fail-open journal records set aside because they cannot be sent (unreadable, missing fields, wrong types, or refused by
    /// the shared ledger): each is logged and appended to the journal's <c>.rejected</c> file, and the records after it are sent.
    /// </summary>
    public const string FailOpenRejectedInstrument = "inference_router.budget.fail_open_rejected";
}
