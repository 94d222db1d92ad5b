namespace InferenceRouter;

/// <summary>When a route's circuit breaker opens and for how long; each route has its own breaker (Polly v8).</summary>
/// <remarks>Only transient failures count (see <see cref="FailureClassifier"/>); a caller's cancellation and a 400 never open a circuit.</remarks>
public sealed class RouteCircuitBreakerOptions
{
    /// <summary>Gets or sets a value indicating whether routes have circuit breakers. Default: <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the failure ratio in the sampling window that opens the circuit (0 &lt; ratio ≤ 1). Default: 0.5.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets the fewest calls in the window before the ratio counts (at least 2). Default: 10.</summary>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>Gets or sets the window over which failures are counted (at least 500 ms). Default: 30 seconds.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long an opened circuit stays open before one probe is let through (at least 500 ms). Default: 15 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    internal IEnumerable<string> GetValidationErrors(string prefix)
    {
        if (!(FailureRatio > 0 && FailureRatio <= 1))
        {
            yield return $"{prefix}FailureRatio is {FailureRatio}; give a ratio greater than 0 and at most 1 (e.g. 0.5).";
        }

        if (MinimumThroughput < 2)
        {
            yield return $"{prefix}MinimumThroughput is {MinimumThroughput}; give 2 or more.";
        }

        if (SamplingDuration < TimeSpan.FromMilliseconds(500))
        {
            yield return $"{prefix}SamplingDuration is {SamplingDuration}; give at least 00:00:00.5.";
        }

        if (BreakDuration < TimeSpan.FromMilliseconds(500))
        {
            yield return $"{prefix}BreakDuration is {BreakDuration}; give at least 00:00:00.5.";
        }
    }
}
