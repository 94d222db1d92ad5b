using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The budget's instruments: cost and tokens by route and model (and tenant, when asked); denials by limit; late and over-reserved settlements. Recording is skipped when nobody listens.</summary>
internal sealed class BudgetTelemetry : MeterOwner
{
    private readonly Counter<double> _cost;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _denials;
    private readonly Counter<long> _lateSettlements;
    private readonly Counter<long> _overReservations;

    public BudgetTelemetry(IMeterFactory? meterFactory)
        : base(meterFactory)
    {
        _cost = Meter.CreateCounter<double>(InferenceRouterTelemetry.CostInstrument, "{USD}", "What calls cost, in the price catalog's currency, by route, model and tenant.");
        _tokens = Meter.CreateCounter<long>(InferenceRouterTelemetry.TokensInstrument, "{token}", "Tokens by route, model, tenant and token type.");
        _denials = Meter.CreateCounter<long>(InferenceRouterTelemetry.BudgetDenialsInstrument, "{call}", "Calls or route attempts a budget limit turned away, by limit and enforcement.");
        _lateSettlements = Meter.CreateCounter<long>(InferenceRouterTelemetry.BudgetLateSettlementsInstrument, "{call}", "Calls settled after their reservation expired (and was charged), by route.");
        _overReservations = Meter.CreateCounter<long>(InferenceRouterTelemetry.BudgetOverReservationsInstrument, "{call}", "Calls that cost more than they reserved (a provider ignored its output limit), by route.");
    }

    public void RecordCost(CallCost cost, string? tenant)
    {
        if (!_cost.Enabled && !_tokens.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { "inference_router.route", cost.Route },
            { "gen_ai.request.model", cost.ModelId },
        };
        if (tenant is not null)
        {
            tags.Add("inference_router.tenant", tenant);
        }

        _cost.Add((double)cost.Amount, tags);
        if (_tokens.Enabled)
        {
            var input = tags;
            input.Add("gen_ai.token.type", "input");
            _tokens.Add(cost.InputTokens, input);
            tags.Add("gen_ai.token.type", "output");
            _tokens.Add(cost.OutputTokens, tags);
        }
    }

    public void RecordLateSettlement(string route) => _lateSettlements.Add(1, new KeyValuePair<string, object?>("inference_router.route", route));

    public void RecordOverReservation(string route) => _overReservations.Add(1, new KeyValuePair<string, object?>("inference_router.route", route));

    public void RecordDenial(string limit, BudgetEnforcement enforcement)
    {
        if (_denials.Enabled)
        {
            _denials.Add(1, new KeyValuePair<string, object?>("inference_router.budget.limit", limit), new KeyValuePair<string, object?>("inference_router.budget.enforcement", enforcement == BudgetEnforcement.Reject ? "reject" : "downgrade"));
        }
    }
}
