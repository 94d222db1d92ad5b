namespace InferenceRouter;

/// <summary>Options of the <see cref="SemanticCacheChatClient"/>. The defaults are precision-first, calibrated on Quora Question Pairs (docs/caching.md).</summary>
public sealed class SemanticCacheOptions
{
    /// <summary>Gets or sets the cosine similarity a cached question needs to answer a new one.</summary>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public double MinSimilarity { get; set; } = 0.93;

    /// <summary>Gets or sets how far ahead of the runner-up (in the same partition) the best match must be: two close candidates mean an ambiguous question.</summary>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public double MinMargin { get; set; } = 0.05;

    /// <summary>
    /// Gets or sets a value indicating whether a match must agree with the question on negation (words and negated forms), opposites and
    /// other contrast sets, numbers, expressions and direction in order, literals, symbols and names (docs/caching.md).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public bool RequireSalientAgreement { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the semantic tier is used (with an embedding generator); false keeps the exact tier only.</summary>
    public bool EnableSemanticTier { get; set; } = true;

    /// <summary>Gets or sets how long an answer stays cached.</summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The default <see cref="MaxBytes"/>: 256 MiB.</summary>
    public const long DefaultMaxBytes = 256L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the most entries this instance holds: in the default in-memory store, or in a shared store's local copy
    /// (<see cref="ISharedCacheStore.LimitLocalCopy"/>, e.g. Redis under <c>UseRedis()</c>, where the store's own limit also applies).
    /// </summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the most heap bytes this instance's entries hold — their objects and text, vectors and vector-index slots, counted from
    /// the runtime's object layout and checked against the real heap — in the default in-memory store or a shared store's local copy.
    /// </summary>
    public long MaxBytes { get; set; } = DefaultMaxBytes;

    /// <summary>
    /// Gets or sets the longest prompt (in characters) the semantic tier embeds. Longer prompts use the exact tier only: an embedding
    /// model reads a bounded window (512 tokens for MiniLM), so two long prompts that differ past it would look identical. Generators that
    /// report truncation (<see cref="EmbeddingProperties.Truncated"/>, as <c>OnnxEmbeddingGenerator</c> does) are also trusted for shorter ones.
    /// </summary>
    public int MaxSemanticPromptCharacters { get; set; } = 2_000;

    /// <summary>
    /// Gets or sets a value indicating whether answers from a fallback the caller did not ask for (failover, budget downgrade, offline local
    /// model) are stored. Off by default: such an answer is not what the request gets once the preferred route is back.
    /// </summary>
    public bool StoreFallbackAnswers { get; set; }

    /// <summary>
    /// Gets or sets whether the embedding generator runs on this device, so calls kept on the device (<c>KeepOnDevice()</c>) may use the
    /// semantic tier. Null decides from the generator's metadata: ONNX Runtime or a loopback endpoint is on the device; anything else is not,
    /// and such calls use the exact tier only (their prompt is never sent to a remote embedding service).
    /// </summary>
    public bool? EmbeddingsOnDevice { get; set; }

    /// <summary>Gets or sets a value indicating whether each end user gets their own partition (tenants always do).</summary>
    public bool PartitionByUser { get; set; }

    /// <summary>Gets or sets a value indicating whether answers cut short by the output limit are stored.</summary>
    public bool StoreTruncatedResponses { get; set; }

    /// <summary>Gets or sets how far below <see cref="MinSimilarity"/> a rejected candidate still counts as a near miss (telemetry).</summary>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public double NearMissBand { get; set; } = 0.05;

    /// <summary>Lists what is wrong with the options, each with the fix.</summary>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors()
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

        if (MaxBytes < 64 * 1024)
        {
            yield return $"SemanticCache:MaxBytes is {MaxBytes}; allow at least 65536 bytes (e.g. 268435456 for 256 MiB).";
        }

        if (MaxSemanticPromptCharacters < 1)
        {
            yield return $"SemanticCache:MaxSemanticPromptCharacters is {MaxSemanticPromptCharacters}; give a positive length, e.g. 2000.";
        }

        if (!(NearMissBand >= 0 && NearMissBand < 1))
        {
            yield return $"SemanticCache:NearMissBand is {NearMissBand}; give a value in [0, 1).";
        }
    }
}
