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

    public RouteQuotaState(string route, RouteQuota quota, TimeProvider time)
    {
        Route = route;
        Quota = quota.Copy();
        Requests = quota.RequestsPerMinute is { } rpm ? new PerMinuteRateLimiter(rpm, time) : null;
        Tokens = quota.TokensPerMinute is { } tpm ? new PerMinuteRateLimiter(tpm, time) : null;
        _concurrency = quota.MaxConcurrency is { } max ? new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = max, QueueLimit = 0 }) : null;
    }

    public string Route { get; }

    public RouteQuota Quota { get; }

    public PerMinuteRateLimiter? Requests { get; }

    public PerMinuteRateLimiter? Tokens { get; }

    /// <summary>Gets a value indicating whether admission needs the call's token estimate.</summary>
    public bool CountsTokens => Tokens is not null;

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

        if (Requests is not null && !Requests.TryTake(1, out var requestWait))
        {
            lease?.Dispose();
            return Deny("requests per minute", requestWait);
        }

        if (Tokens is not null && !Tokens.TryTake(tokens, out var tokenWait))
        {
            Requests?.Refund(1);
            lease?.Dispose();
            return Deny("tokens per minute", tokenWait);
        }

        return RouteAdmission.Admit(Tokens is null && lease is null ? this : new QuotaReservation(this, tokens, lease));
    }

    /// <summary>Gives back what an attempt that cannot have been billed took.</summary>
    public void GiveBack(long tokens)
    {
        Requests?.Refund(1);
        Tokens?.Refund(tokens);
    }

    ValueTask<CallCost?> IRouteAttemptObserver.OnAttemptEndedAsync(RouteAttemptReport report)
    {
        if (!report.MayHaveBeenBilled)
        {
            Requests?.Refund(1); // never sent, or refused before the provider counted it
        }

        return default;
    }

    private RouteAdmission Deny(string limit, TimeSpan? retryAfter) =>
        RouteAdmission.Deny(new RouteQuotaExceededException([new RouteQuotaWait(Route, limit, retryAfter)]));
}
