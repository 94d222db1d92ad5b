using System.Threading.RateLimiting;

namespace InferenceRouter;

/// <summary>One route's quota as the router keeps it: a limiter per declared limit, asked in turn, each undone if a later one is full.</summary>
/// <remarks>
/// Thread-safe. When the quota limits requests only, this object is also the attempts' observer (it gives back the request of an attempt
/// that was never sent), so admission allocates nothing; token and concurrency limits need a <see cref="QuotaReservation"/> per attempt.
/// </remarks>
internal sealed class RouteQuotaState : IRouteAttemptObserver
{
    private readonly ConcurrencyLimiter? _concurrency;
    private readonly TimeProvider _time;
    private PerMinuteRateLimiter? _requests; // declared, or learned from the provider's headers (then set once, when first stated)
    private PerMinuteRateLimiter? _tokens;
    private long _heldUntil; // a provider that said "none left" without its limit: nothing is sent until its reset (timestamp; 0: not held)

    public RouteQuotaState(string route, RouteQuota quota, TimeProvider time)
    {
        Route = route;
        Quota = quota.Copy();
        _time = time;
        _requests = quota.RequestsPerMinute is { } rpm ? new PerMinuteRateLimiter(rpm, time) : null;
        _tokens = quota.TokensPerMinute is { } tpm ? new PerMinuteRateLimiter(tpm, time) : null;
        _concurrency = quota.MaxConcurrency is { } max ? new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = max, QueueLimit = 0 }) : null;
    }

    public string Route { get; }

    public RouteQuota Quota { get; }

    public PerMinuteRateLimiter? Requests => Volatile.Read(ref _requests);

    public PerMinuteRateLimiter? Tokens => Volatile.Read(ref _tokens);

    /// <summary>Gets a value indicating whether admission needs the call's token estimate.</summary>
    public bool CountsTokens => Volatile.Read(ref _tokens) is not null;

    /// <summary>Gets the share of the tightest limit that is left now, from 0 (full) to 1 (unused).</summary>
    public double Headroom
    {
        get
        {
            double left = 1;
            if (Requests is { } requests)
            {
                left = Math.Min(left, requests.Headroom);
            }

            if (Tokens is { } tokens)
            {
                left = Math.Min(left, tokens.Headroom);
            }

            if (_concurrency?.GetStatistics() is { } statistics && Quota.MaxConcurrency is { } max)
            {
                left = Math.Min(left, statistics.CurrentAvailablePermits / (double)max);
            }

            return left;
        }
    }

    /// <summary>Admits a call of <paramref name="tokens"/> (its estimate), or says which limit is full and when it frees up.</summary>
    public RouteAdmission Admit(long tokens)
    {
        if (Volatile.Read(ref _heldUntil) is not 0 and var held && _time.GetTimestamp() is var now && now < held)
        {
            return Deny("requests per minute (the provider said none are left)", _time.GetElapsedTime(now, held));
        }

        var requests = Requests;
        var tokenLimiter = Tokens;
        RateLimitLease? lease = null;
        if (_concurrency is not null)
        {
            lease = _concurrency.AttemptAcquire(1);
            if (!lease.IsAcquired)
            {
                lease.Dispose();
                return Deny("concurrency", null);
            }
        }

        if (requests is not null && !requests.TryTake(1, out var requestWait))
        {
            lease?.Dispose();
            return Deny("requests per minute", requestWait);
        }

        if (tokenLimiter is not null && !tokenLimiter.TryTake(tokens, out var tokenWait))
        {
            requests?.Refund(1);
            lease?.Dispose();
            return Deny("tokens per minute", tokenWait);
        }

        return RouteAdmission.Admit(tokenLimiter is null && lease is null ? this : new QuotaReservation(this, tokens, lease));
    }

    /// <summary>
    /// Follows what the provider said is left: the limiter it describes (declared, or made from the limit it states) is lowered to
    /// at most that; a provider that says none are left without stating its limit holds the route until its reset.
    /// </summary>
    public void Learn(ProviderRateLimitReading reading)
    {
        ref var field = ref reading.Tokens ? ref _tokens : ref _requests;
        var limiter = Volatile.Read(ref field);
        if (limiter is null && reading.Limit is { } limit)
        {
            Interlocked.CompareExchange(ref field, new PerMinuteRateLimiter(limit, _time), null);
            limiter = Volatile.Read(ref field);
        }

        if (limiter is not null)
        {
            limiter.FollowRemaining(reading.Remaining);
        }
        else if (reading.Remaining == 0 && reading.Reset is { } reset && reset > TimeSpan.Zero)
        {
            Volatile.Write(ref _heldUntil, _time.GetTimestamp() + (long)(Math.Min(reset.TotalSeconds, 60) * _time.TimestampFrequency));
        }
    }

    /// <summary>
    /// Gives back what an attempt that cannot have been billed took: its tokens, and its request when it was never sent. A request the
    /// provider refused (a 429 above all) keeps its place: giving it back would send the next call straight into the same refusal, and
    /// the refusal's own headers say what is left.
    /// </summary>
    public void GiveBack(RouteAttemptReport report, long tokens)
    {
        if (report.Outcome == RouteAttemptOutcome.Skipped)
        {
            Requests?.Refund(1);
        }

        Tokens?.Refund(tokens);
    }

    ValueTask<CallCost?> IRouteAttemptObserver.OnAttemptEndedAsync(RouteAttemptReport report)
    {
        if (!report.MayHaveBeenBilled)
        {
            GiveBack(report, 0);
        }

        return default;
    }

    private RouteAdmission Deny(string limit, TimeSpan? retryAfter) =>
        RouteAdmission.Deny(new RouteQuotaExceededException([new RouteQuotaWait(Route, limit, retryAfter)]));
}
