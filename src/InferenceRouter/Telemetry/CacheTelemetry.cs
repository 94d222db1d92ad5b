using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The cache's instruments: lookups by tier and outcome, and the similarity of the best semantic candidate.</summary>
internal sealed class CacheTelemetry : MeterOwner
{
    private readonly Counter<long> _lookups;
    private readonly Histogram<double> _similarity;

    public CacheTelemetry(IMeterFactory? meterFactory)
        : base(meterFactory)
    {
        _lookups = Meter.CreateCounter<long>(InferenceRouterTelemetry.CacheLookupsInstrument, "{lookup}", "Cache lookups by tier (exact, semantic) and outcome (hit, miss, near_miss, other_route, bypass, truncated, unknown_tokens, error).");
        _similarity = Meter.CreateHistogram<double>(InferenceRouterTelemetry.CacheSimilarityInstrument, "1", "Cosine similarity of the best semantic candidate, by outcome.");
    }

    public void Lookup(string tier, string outcome)
    {
        if (_lookups.Enabled)
        {
            _lookups.Add(1, new KeyValuePair<string, object?>("inference_router.cache.tier", tier), new KeyValuePair<string, object?>("inference_router.cache.outcome", outcome));
        }
    }

    public void Similarity(double similarity, string outcome)
    {
        if (_similarity.Enabled)
        {
            _similarity.Record(similarity, new KeyValuePair<string, object?>("inference_router.cache.outcome", outcome));
        }
    }
}
