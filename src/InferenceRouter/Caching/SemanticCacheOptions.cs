namespace InferenceRouter;

/// <summary>Options of the <see cref="SemanticCacheChatClient"/>. The defaults are precision-first, calibrated on Quora Question Pairs (docs/caching.md).</summary>
public sealed class SemanticCacheOptions
{
    /// <summary>Gets or sets the cosine similarity a cached question needs to answer a new one.</summary>
    public double MinSimilarity { get; set; } = 0.93;

    /// <summary>Gets or sets how far ahead of the runner-up (in the same partition) the best match must be: two close candidates mean an ambiguous question.</summary>
    public double MinMargin { get; set; } = 0.05;

    /// <summary>Gets or sets a value indicating whether a match must agree with the question on negations, numbers and names.</summary>
    public bool RequireSalientAgreement { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the semantic tier is used (with an embedding generator); false keeps the exact tier only.</summary>
    public bool EnableSemanticTier { get; set; } = true;

    /// <summary>Gets or sets how long an answer stays cached.</summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets the most entries of the default in-memory store.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>Gets or sets a value indicating whether each end user gets their own partition (tenants always do).</summary>
    public bool PartitionByUser { get; set; }

    /// <summary>Gets or sets a value indicating whether answers cut short by the output limit are stored.</summary>
    public bool StoreTruncatedResponses { get; set; }

    /// <summary>Gets or sets how far below <see cref="MinSimilarity"/> a rejected candidate still counts as a near miss (telemetry).</summary>
    public double NearMissBand { get; set; } = 0.05;

    /// <summary>Lists what is wrong with the options, each with the fix.</summary>
    /// <returns>The problems; empty when valid.</returns>
    public IEnumerable<string> GetValidationErrors()
    {
        if (!(MinSimilarity > 0 && MinSimilarity <= 1))
        {
            yield return $"SemanticCache:MinSimilarity is {MinSimilarity}; give a cosine similarity in (0, 1], e.g. 0.93.";
        }

        if (!(MinMargin >= 0 && MinMargin < 1))
        {
            yield return $"SemanticCache:MinMargin is {MinMargin}; give a value in [0, 1), e.g. 0.05.";
        }

        if (TimeToLive <= TimeSpan.Zero)
        {
            yield return $"SemanticCache:TimeToLive is {TimeToLive}; give a positive duration, e.g. 01:00:00.";
        }

        if (MaxEntries < 1)
        {
            yield return $"SemanticCache:MaxEntries is {MaxEntries}; allow at least 1 entry.";
        }

        if (!(NearMissBand >= 0 && NearMissBand < 1))
        {
            yield return $"SemanticCache:NearMissBand is {NearMissBand}; give a value in [0, 1).";
        }
    }
}
