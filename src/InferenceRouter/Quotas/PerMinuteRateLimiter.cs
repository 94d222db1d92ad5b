using System.Threading.RateLimiting;

namespace InferenceRouter;

/// <summary>
/// A per-minute limit kept as a provider keeps it — a bucket holding one minute's worth that refills continuously — as the generic cell
/// rate algorithm (GCRA): one timestamp, the theoretical arrival time, moved with compare-and-swap; no lock, no timer, no allocation.
/// </summary>
/// <remarks>
/// <para>A <see cref="RateLimiter"/>, so anything that takes one can use it. The router's quota does not use the built-in
/// <see cref="TokenBucketRateLimiter"/> because a quota must give tokens back (a call's estimate trued down to its real usage,
/// <see cref="Refund"/>) and take more than it reserved (<see cref="Charge"/>, even into debt), which the built-in one cannot; and because
/// it takes a lock and a timer per limiter. The same algorithm runs in Redis for shared quotas, so one instance and a fleet agree.</para>
/// <para>Thread-safe.</para>
/// </remarks>
internal sealed class PerMinuteRateLimiter : RateLimiter
{
    private static readonly RateLimitLease s_acquired = new Lease(true, null);
    private static readonly RateLimitLease s_tooLarge = new Lease(false, TimeSpan.MaxValue);

    private const long MaxDebtMinutes = 60;

    private readonly TimeProvider _time;
    private readonly long _interval; // timestamp ticks per permit (rounded up: never more than the limit)
    private readonly long _tolerance; // one minute in timestamp ticks: how far ahead of now the arrival time may run
    private long _arrival; // the theoretical arrival time: when the bucket would be full again

    public PerMinuteRateLimiter(long perMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perMinute, 1);
        _time = time;
        PerMinute = perMinute;
        _tolerance = (long)(60 * time.TimestampFrequency);
        _interval = Math.Max(1, (_tolerance + perMinute - 1) / perMinute);
        _arrival = time.GetTimestamp();
    }

    /// <summary>Gets the limit: permits per minute, also the most the bucket holds.</summary>
    public long PerMinute { get; }

    /// <inheritdoc/>
    public override TimeSpan? IdleDuration
    {
        get
        {
            long now = _time.GetTimestamp();
            long full = Volatile.Read(ref _arrival);
            return full <= now ? _time.GetElapsedTime(full, now) : null;
        }
    }

    /// <summary>Takes <paramref name="permits"/> now if they fit.</summary>
    /// <param name="permits">How many.</param>
    /// <param name="retryAfter">When they do not fit: how long until they do (<see cref="TimeSpan.MaxValue"/>: never, more than a minute's worth).</param>
    /// <returns>Whether they were taken.</returns>
    public bool TryTake(long permits, out TimeSpan retryAfter)
    {
        long cost = Cost(permits);
        if (cost > _tolerance)
        {
            retryAfter = TimeSpan.MaxValue;
            return false;
        }

        long now = _time.GetTimestamp();
        while (true)
        {
            long arrival = Volatile.Read(ref _arrival);
            long next = Math.Max(arrival, now) + cost;
            long ahead = next - now;
            if (ahead > _tolerance)
            {
                retryAfter = TimeSpan.FromSeconds((ahead - _tolerance) / (double)_time.TimestampFrequency);
                return false;
            }

            if (Interlocked.CompareExchange(ref _arrival, next, arrival) == arrival)
            {
                retryAfter = TimeSpan.Zero;
                return true;
            }
        }
    }

    /// <summary>Takes <paramref name="permits"/> whether they fit or not (usage beyond an estimate, already spent at the provider).</summary>
    /// <param name="permits">How many; zero or less does nothing.</param>
    public void Charge(long permits)
    {
        if (permits <= 0)
        {
            return;
        }

        long cost = Math.Min(Cost(permits), MaxDebtMinutes * _tolerance); // usage far beyond any estimate cannot park the route for ever
        long now = _time.GetTimestamp();
        long arrival;
        do
        {
            arrival = Volatile.Read(ref _arrival);
        }
        while (Interlocked.CompareExchange(ref _arrival, Math.Max(arrival, now) + cost, arrival) != arrival);
    }

    /// <summary>Gives back <paramref name="permits"/> taken earlier and not used (never more than makes the bucket full).</summary>
    /// <param name="permits">How many; zero or less does nothing.</param>
    public void Refund(long permits)
    {
        if (permits <= 0)
        {
            return;
        }

        long cost = Cost(permits);
        long now = _time.GetTimestamp();
        long arrival;
        do
        {
            arrival = Volatile.Read(ref _arrival);
            if (arrival <= now)
            {
                return; // already full
            }
        }
        while (Interlocked.CompareExchange(ref _arrival, Math.Max(arrival - cost, now), arrival) != arrival);
    }

    /// <summary>Lowers what is left to at most <paramref name="remaining"/> (a provider's own count); never raises it.</summary>
    /// <param name="remaining">What the provider says is left.</param>
    public void FollowRemaining(long remaining)
    {
        long now = _time.GetTimestamp();
        long used = Math.Max(0, PerMinute - Math.Max(0, remaining));
        long target = now + Math.Min(_tolerance, used * _interval);
        long arrival;
        do
        {
            arrival = Volatile.Read(ref _arrival);
            if (arrival >= target)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _arrival, target, arrival) != arrival);
    }

    /// <summary>Gets the permits that fit now (0 to <see cref="PerMinute"/>).</summary>
    public long Available
    {
        get
        {
            long used = Volatile.Read(ref _arrival) - _time.GetTimestamp();
            return used <= 0 ? PerMinute : Math.Max(0, (_tolerance - used) / _interval);
        }
    }

    /// <summary>Gets the share of the limit that is left now, from 0 (full) to 1 (unused).</summary>
    public double Headroom
    {
        get
        {
            long used = Volatile.Read(ref _arrival) - _time.GetTimestamp();
            return used <= 0 ? 1 : Math.Max(0, 1 - (used / (double)_tolerance));
        }
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics() => new() { CurrentAvailablePermits = Available };

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        if (permitCount == 0)
        {
            return Available > 0 ? s_acquired : new Lease(false, TimeSpan.FromSeconds(_interval / (double)_time.TimestampFrequency));
        }

        return TryTake(permitCount, out var retryAfter) ? s_acquired : retryAfter == TimeSpan.MaxValue ? s_tooLarge : new Lease(false, retryAfter);
    }

    /// <inheritdoc/>
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lease = AttemptAcquireCore(permitCount);
            if (lease.IsAcquired || !lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) || wait == TimeSpan.MaxValue)
            {
                return lease;
            }

            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private long Cost(long permits) => permits >= long.MaxValue / _interval ? long.MaxValue : permits * _interval;

    /// <summary>A lease with nothing to release: a per-minute permit is spent once taken (<see cref="Refund"/> gives one back).</summary>
    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
