using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The budget's instruments: cost and tokens by route, model and tenant; denials by limit. Recording is skipped when nobody listens.</summary>
internal sealed class BudgetTelemetry : MeterOwner
{
    private readonly Counter<double> _cost;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _denials;

    public BudgetTelemetry(IMeterFactory? meterFactory)
        : base(meterFactory)
    {
        _cost = Meter.CreateCounter<double>(InferenceRouterTelemetry.CostInstrument, "{USD}", "What calls cost, in the price catalog's currency, by route, model and tenant.");
        _tokens = Meter.CreateCounter<long>(InferenceRouterTelemetry.TokensInstrument, "{token}", "Tokens by route, model, tenant and token type.");
        _denials = Meter.CreateCounter<long>(InferenceRouterTelemetry.BudgetDenialsInstrument, "{call}", "Calls or route attempts a budget limit turned away, by limit and enforcement.");
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
            { "inference_router.tenant", tenant },
        };
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

    public void RecordDenial(string limit, BudgetEnforcement enforcement)
    {
        if (_denials.Enabled)
        {
            _denials.Add(1, new KeyValuePair<string, object?>("inference_router.budget.limit", limit), new KeyValuePair<string, object?>("inference_router.budget.enforcement", enforcement == BudgetEnforcement.Reject ? "reject" : "downgrade"));
        }
    }
}
