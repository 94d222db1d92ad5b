namespace InferenceRouter;

/// <summary>How the router chooses, times and fails over routes. Bound from configuration (section <c>InferenceRouter</c>) or set in code.</summary>
public class RouterOptions
{
    /// <summary>Gets or sets the policy used when a call names none: a built-in name (see <see cref="RoutingPolicies"/>) or one registered with AddPolicy. Default: <c>default</c>.</summary>
    public string DefaultPolicy { get; set; } = RoutingPolicies.Default;

    /// <summary>The longest timeout, hedging delay or Retry-After wait the router accepts: one day.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    /// <summary>Gets or sets the least weight of the newest sample in each route's estimates (latency, time to first token, time per token, error rate), in (0, 1]: higher reacts faster, lower is steadier. Default 0.2.</summary>
    public double LatencySmoothing { get; set; } = RouteHealth.DefaultSmoothingFactor;

    /// <summary>
    /// Gets or sets how fast a route's estimates forget when not refreshed: a sample arriving after this much silence carries 63% of
    /// the new estimate (after three times as long, 95%), so a route measured long ago is judged by its next sample. Default 5 seconds.
    /// </summary>
    public TimeSpan LatencyDecayTime { get; set; } = RouteHealth.DefaultDecayTime;

    /// <summary>
    /// Gets or sets how long a route may go unmeasured before the <c>lowest-latency</c> policy tries it first once (and the
    /// max-latency filter lets one call through), so a route that recovered wins its place back. Default 10 seconds.
    /// </summary>
    public TimeSpan LatencyProbeInterval { get; set; } = RouteHealth.DefaultProbeInterval;

    /// <summary>
    /// Gets or sets the longest the provider may take in one attempt: a plain call until its answer; a stream to its first update and
    /// then, added up, every wait for the next one (the time the caller spends reading is not counted). Before a stream's first update
    /// (or a plain answer) the router fails over on expiry; after it the caller gets a <see cref="TimeoutException"/> naming it.
    /// </summary>
    /// <remarks>
    /// Default: null, no router timeout; the provider client's own applies (the OpenAI SDK's network timeout is 100 s, routes built from
    /// configuration use 10 minutes, else a second more than this). The router enforces it around every wait on the provider, whatever
    /// the SDK does with its token. A timeout costs a timer per attempt, not per update.
    /// </remarks>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>
    /// Gets or sets the longest a stream may take to deliver its first update before the router fails over. Null: <see cref="AttemptTimeout"/>
    /// applies from the start. Once the first update is handed over, this timer can end nothing.
    /// </summary>
    public TimeSpan? TimeToFirstTokenTimeout { get; set; }

    /// <summary>Gets or sets the delay after which, if the current attempt has not answered, the next candidate starts too (the first success wins, the other is cancelled). Null: no hedging.</summary>
    public TimeSpan? HedgingDelay { get; set; }

    /// <summary>Gets or sets the most attempts running at once when hedging. Default: 2.</summary>
    public int MaxHedgedAttempts { get; set; } = 2;

    /// <summary>Gets or sets the most attempts per call (failover depth). Null: every candidate.</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether failures that are the request's (400 <c>invalid_request_error</c>, 422, a content filter,
    /// an unknown non-transient error) also fail over. Default: <see langword="false"/>: they surface at once. A misconfigured route
    /// (401, 403, 404), a rate limit and a context window too small fail over whatever this says.
    /// </summary>
    public bool FailoverOnNonTransientErrors { get; set; }

    /// <summary>Gets or sets a value indicating whether local routes are tried after every remote one, whatever the ranker says. Default: <see langword="true"/>.</summary>
    public bool LocalRoutesLast { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a rate-limited route (429, 529, <c>rate_limit_exceeded</c>, <c>overloaded_error</c>) is skipped when its
    /// provider gave no usable Retry-After (none, zero, unreadable); the failures still count toward the circuit breaker. Zero: no cooldown
    /// without a Retry-After. Default: 5 seconds (as LiteLLM's router).
    /// </summary>
    public TimeSpan RateLimitCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a route found misconfigured (401, 402, 403, 404, no quota or credit left: <see cref="FailureKind.RouteMisconfigured"/>)
    /// is out of service before one call probes it again; it is back when a probe answers, or when an operator calls
    /// <see cref="RouterChatClient.RestoreRoute"/>. Zero: no probe, only an operator brings it back. Default: 5 minutes.
    /// </summary>
    public TimeSpan MisconfiguredRouteProbeInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets what happens when a provider's content filter refuses a request: it surfaces (<see cref="ContentPolicyFallback.Surface"/>,
    /// the default) or the next route is tried (<see cref="ContentPolicyFallback.FailOver"/>, logged and listed in <see cref="RoutingInfo.Attempts"/>, never silent).
    /// </summary>
    public ContentPolicyFallback ContentPolicyFallback { get; set; }

    /// <summary>
    /// Gets or sets how long a call waits when every route it could go to has a full quota (<see cref="RouteDescriptor.Quota"/>): the router
    /// waits for the first route to free up and tries again, until this time has passed; then the call fails with a
    /// <see cref="RouteQuotaExceededException"/> naming the routes and when each frees up (at once when none frees up within it).
    /// Default: zero (fail at once).
    /// </summary>
    public TimeSpan QuotaQueueTimeout { get; set; }

    /// <summary>Gets or sets the longest Retry-After the router honours; longer requests are capped. Default: 5 minutes.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how long the router considers the app offline after a call in which every remote route tried failed to connect:
    /// meanwhile local routes go first. Zero turns offline detection off. Default 30 seconds.
    /// </summary>
    public TimeSpan OfflineInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the most calls, as a share (0 to 1), that may probe one route (<see cref="LatencyProbeInterval"/>): a route is probed at
    /// most once per <c>1 / rate</c> attempts, so a quiet app does not spend its calls re-measuring slow routes. Zero: no probes. Default: 0.05.
    /// </summary>
    public double LatencyExplorationRate { get; set; } = 0.05;

    /// <summary>Gets or sets each route's circuit breaker settings.</summary>
    public RouteCircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>Gets or sets what counts as a transient failure. Default: <see cref="FailureClassifier.Default"/>.</summary>
    public FailureClassifier FailureClassifier { get; set; } = FailureClassifier.Default;

    /// <summary>Lists what is wrong with the options, each message naming the setting and the fix.</summary>
    /// <returns>The problems; empty when the options are valid.</returns>
    internal virtual IEnumerable<string> GetValidationErrors()
    {
        if (QuotaQueueTimeout < TimeSpan.Zero || QuotaQueueTimeout > MaxTimeout)
        {
            yield return $"QuotaQueueTimeout is {QuotaQueueTimeout}; give zero (fail at once when every route's quota is full) or how long a call may wait for one to free up, up to {MaxTimeout} (e.g. \"00:00:10\").";
        }

        if (string.IsNullOrWhiteSpace(DefaultPolicy))
        {
            yield return $"DefaultPolicy is empty; name a policy, e.g. \"{RoutingPolicies.Default}\".";
        }

        // Timers take at most about 49.7 days and the HTTP resilience pipeline's timeouts at most a day: longer is a mistake, not "no limit".
        if (AttemptTimeout is { } attempt && (attempt <= TimeSpan.Zero || attempt > MaxTimeout))
        {
            yield return $"AttemptTimeout is {attempt}; give a positive time span up to {MaxTimeout} (e.g. \"00:01:00\"), or leave it unset for no limit.";
        }

        if (TimeToFirstTokenTimeout is { } ttft && (ttft <= TimeSpan.Zero || ttft > MaxTimeout))
        {
            yield return $"TimeToFirstTokenTimeout is {ttft}; give a positive time span up to {MaxTimeout}, or leave it unset.";
        }

        if (HedgingDelay is { } hedging && (hedging < TimeSpan.Zero || hedging > MaxTimeout))
        {
            yield return $"HedgingDelay is {hedging}; give zero or a positive time span up to {MaxTimeout}, or leave it unset to turn hedging off.";
        }

        if (MaxHedgedAttempts < 2)
        {
            yield return $"MaxHedgedAttempts is {MaxHedgedAttempts}; hedging needs at least 2 attempts at once.";
        }

        if (MaxAttempts is < 1)
        {
            yield return $"MaxAttempts is {MaxAttempts}; give 1 or more, or leave it unset to try every candidate.";
        }

        if (OfflineInterval < TimeSpan.Zero)
        {
            yield return $"OfflineInterval is {OfflineInterval}; give zero (off) or a positive time span such as 00:00:30.";
        }

        if (!(LatencySmoothing > 0 && LatencySmoothing <= 1))
        {
            yield return $"LatencySmoothing is {LatencySmoothing}; give the weight of the newest sample, above 0 and at most 1 (e.g. 0.2).";
        }

        if (LatencyDecayTime <= TimeSpan.Zero || LatencyDecayTime > MaxTimeout)
        {
            yield return $"LatencyDecayTime is {LatencyDecayTime}; give a positive time span up to {MaxTimeout} (e.g. \"00:00:05\").";
        }

        if (LatencyProbeInterval <= TimeSpan.Zero || LatencyProbeInterval > MaxTimeout)
        {
            yield return $"LatencyProbeInterval is {LatencyProbeInterval}; give a positive time span up to {MaxTimeout} (e.g. \"00:00:10\").";
        }

        if (MaxRetryAfter < TimeSpan.Zero || MaxRetryAfter > MaxTimeout)
        {
            yield return $"MaxRetryAfter is {MaxRetryAfter}; give zero or a positive time span up to {MaxTimeout}.";
        }

        if (RateLimitCooldown < TimeSpan.Zero || RateLimitCooldown > MaxTimeout)
        {
            yield return $"RateLimitCooldown is {RateLimitCooldown}; give zero (no cooldown without a Retry-After) or a positive time span up to {MaxTimeout} (e.g. \"00:00:05\").";
        }

        if (MisconfiguredRouteProbeInterval < TimeSpan.Zero || MisconfiguredRouteProbeInterval > MaxTimeout)
        {
            yield return $"MisconfiguredRouteProbeInterval is {MisconfiguredRouteProbeInterval}; give a positive time span up to {MaxTimeout} (e.g. \"00:05:00\"), or zero so only RestoreRoute brings a misconfigured route back.";
        }

        if (!Enum.IsDefined(ContentPolicyFallback))
        {
            yield return $"ContentPolicyFallback is {(int)ContentPolicyFallback}; give {nameof(InferenceRouter.ContentPolicyFallback.Surface)} (refusals reach the caller) or {nameof(InferenceRouter.ContentPolicyFallback.FailOver)} (the next route is tried).";
        }

        if (!(LatencyExplorationRate >= 0 && LatencyExplorationRate <= 1))
        {
            yield return $"LatencyExplorationRate is {LatencyExplorationRate}; give a probability from 0 to 1 (e.g. 0.05).";
        }

        if (CircuitBreaker is null)
        {
            yield return "CircuitBreaker is null; leave it at its default or set Enabled = false to turn circuit breaking off.";
        }
        else
        {
            foreach (var error in CircuitBreaker.GetValidationErrors("CircuitBreaker:"))
            {
                yield return error;
            }
        }

        if (FailureClassifier is null)
        {
            yield return "FailureClassifier is null; leave it at FailureClassifier.Default or give your own.";
        }
    }
}
