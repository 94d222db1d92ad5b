using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The quality predictor's instruments: predictions by chosen tier and recorded outcomes by tier.</summary>
internal sealed class QualityTelemetry : MeterOwner
{
    private static readonly object[] s_tiers = [.. Enumerable.Range(0, 16).Select(t => (object)t)];
    private readonly Counter<long> _predictions;
    private readonly Counter<long> _outcomes;

    public QualityTelemetry(IMeterFactory? meterFactory)
        : base(meterFactory)
    {
        _predictions = Meter.CreateCounter<long>(InferenceRouterTelemetry.QualityPredictionsInstrument, "{prediction}", "Quality predictions by the tier they chose.");
        _outcomes = Meter.CreateCounter<long>(InferenceRouterTelemetry.QualityOutcomesInstrument, "{outcome}", "Recorded outcomes by the tier that answered.");
    }

    public void Predicted(int tier)
    {
        if (_predictions.Enabled)
        {
            _predictions.Add(1, new KeyValuePair<string, object?>("inference_router.quality.tier", s_tiers[tier]));
        }
    }

    public void Recorded(int tier)
    {
        if (_outcomes.Enabled)
        {
            _outcomes.Add(1, new KeyValuePair<string, object?>("inference_router.quality.tier", s_tiers[tier]));
        }
    }
}
