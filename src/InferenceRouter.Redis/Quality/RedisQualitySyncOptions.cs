namespace InferenceRouter;

/// <summary>Options for <see cref="RedisQualitySync"/> (<c>InferenceRouter:Redis:Quality</c>).</summary>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed class RedisQualitySyncOptions
{
    /// <summary>
    /// Gets or sets about how many recent outcomes the shared stream keeps (trimmed approximately): what an instance started later
    /// learns from. Each takes about 1.7 KB in Redis with a 384-dimension embedding. Default: 10,000.
    /// </summary>
    public int MaxSharedOutcomes { get; set; } = 10_000;

    /// <summary>Gets or sets how often each instance reads outcomes the others recorded. Default: 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Lists what is wrong with these options, each with how to fix it.</summary>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors()
    {
        if (MaxSharedOutcomes < 1)
        {
            yield return $"MaxSharedOutcomes is {MaxSharedOutcomes}; give how many recent outcomes the shared stream keeps (e.g. 10000).";
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            yield return $"PollInterval is {PollInterval}; give a positive time (e.g. 00:00:01).";
        }
    }
}
