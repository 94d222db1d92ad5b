namespace InferenceRouter;

/// <summary>Passive health of one route, measured from real traffic: in-flight count, outcomes, latency, time to first token, circuit state.</summary>
/// <remarks>
/// Lock-free: counters use <see cref="Interlocked"/>, moving averages a compare-and-swap loop, so policies read it on every call for free.
/// The averages are exponentially weighted with <see cref="SmoothingFactor"/> (<see cref="RouterOptions.LatencySmoothing"/>): recent traffic dominates,
/// a recovered route catches up within a few calls.
/// </remarks>
public sealed class RouteHealth
{
    /// <summary>The default weight of the newest sample in the moving averages.</summary>
    public const double DefaultSmoothingFactor = 0.2;

    private readonly TimeProvider _timeProvider;
    private long _inFlight;
    private long _attempts;
    private long _successes;
    private long _failures;
    private long _cancellations;
    private long _errorRateBits;
    private long _latencyBits = BitConverter.DoubleToInt64Bits(double.NaN);
    private long _ttftBits = BitConverter.DoubleToInt64Bits(double.NaN);
    private long _retryAfterUntilTicks;
    private long _circuitOpenUntilTicks;
    private int _circuitState;
    private int _drained;

    internal RouteHealth(string route, TimeProvider timeProvider, double smoothingFactor = DefaultSmoothingFactor)
    {
        Route = route;
        SmoothingFactor = smoothingFactor;
        _timeProvider = timeProvider;
    }

    /// <summary>Gets the weight of the newest sample in the moving averages.</summary>
    public double SmoothingFactor { get; }

    /// <summary>Gets the route's name.</summary>
    public string Route { get; }

    /// <summary>Gets the number of attempts under way.</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the recent error rate (0 to 1).</summary>
    public double ErrorRate => BitConverter.Int64BitsToDouble(Volatile.Read(ref _errorRateBits));

    /// <summary>Gets the moving average latency in milliseconds, or NaN before the first success.</summary>
    public double LatencyMilliseconds => BitConverter.Int64BitsToDouble(Volatile.Read(ref _latencyBits));

    /// <summary>Gets the moving average time to first token in milliseconds, or NaN before the first stream.</summary>
    public double TimeToFirstTokenMilliseconds => BitConverter.Int64BitsToDouble(Volatile.Read(ref _ttftBits));

    /// <summary>Gets the circuit breaker's state as last reported; <see cref="RouteCircuitState.Isolated"/> while an operator drains the route.</summary>
    public RouteCircuitState CircuitState => IsDrained ? RouteCircuitState.Isolated : (RouteCircuitState)Volatile.Read(ref _circuitState);

    /// <summary>Gets a value indicating whether an operator drained the route (<see cref="RouterChatClient.DrainRoute"/>): no call goes to it.</summary>
    public bool IsDrained => Volatile.Read(ref _drained) != 0;

    /// <summary>Returns whether the route is unavailable now (its circuit is open, or it asked callers to wait), and until when.</summary>
    /// <param name="until">When the route becomes available again.</param>
    /// <returns><see langword="true"/> when callers should skip the route now.</returns>
    public bool IsUnavailable(out DateTimeOffset until)
    {
        long retryAfter = Volatile.Read(ref _retryAfterUntilTicks);
        if (retryAfter == 0 && CircuitState is RouteCircuitState.Closed or RouteCircuitState.HalfOpen)
        {
            // The common case needs no clock.
            until = default;
            return false;
        }

        long now = _timeProvider.GetUtcNow().UtcTicks;
        long circuit = CircuitState is RouteCircuitState.Open or RouteCircuitState.Isolated
            ? (CircuitState == RouteCircuitState.Isolated ? long.MaxValue : Volatile.Read(ref _circuitOpenUntilTicks))
            : 0;
        long latest = Math.Max(retryAfter, circuit);
        if (latest > now)
        {
            until = latest == long.MaxValue ? DateTimeOffset.MaxValue : new DateTimeOffset(latest, TimeSpan.Zero);
            return true;
        }

        if (retryAfter != 0)
        {
            // The wait is over: forget it, so later checks take the fast path (unless a newer Retry-After arrived meanwhile).
            Interlocked.CompareExchange(ref _retryAfterUntilTicks, 0, retryAfter);
        }

        until = default;
        return false;
    }

    /// <summary>Copies the statistics.</summary>
    /// <returns>A consistent-enough snapshot (each field is read atomically).</returns>
    public RouteHealthSnapshot GetSnapshot()
    {
        double latency = LatencyMilliseconds;
        double ttft = TimeToFirstTokenMilliseconds;
        return new RouteHealthSnapshot(
            Route,
            InFlight,
            Volatile.Read(ref _attempts),
            Volatile.Read(ref _successes),
            Volatile.Read(ref _failures),
            Volatile.Read(ref _cancellations),
            ErrorRate,
            double.IsNaN(latency) ? null : TimeSpan.FromMilliseconds(latency),
            double.IsNaN(ttft) ? null : TimeSpan.FromMilliseconds(ttft),
            CircuitState,
            IsUnavailable(out var until) ? until : null);
    }

    internal void OnAttemptStarted()
    {
        Interlocked.Increment(ref _attempts);
        Interlocked.Increment(ref _inFlight);
    }

    internal void OnSucceeded(TimeSpan latency)
    {
        Interlocked.Increment(ref _successes);
        Interlocked.Decrement(ref _inFlight);
        UpdateAverage(ref _latencyBits, latency.TotalMilliseconds);
        UpdateAverage(ref _errorRateBits, 0);
    }

    internal void OnFailed()
    {
        Interlocked.Increment(ref _failures);
        Interlocked.Decrement(ref _inFlight);
        UpdateAverage(ref _errorRateBits, 1);
    }

    internal void OnCancelled()
    {
        Interlocked.Increment(ref _cancellations);
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>The circuit breaker refused the attempt before it started: it does not count.</summary>
    internal void OnRejected()
    {
        Interlocked.Decrement(ref _attempts);
        Interlocked.Decrement(ref _inFlight);
    }

    internal void OnFirstToken(TimeSpan timeToFirstToken) => UpdateAverage(ref _ttftBits, timeToFirstToken.TotalMilliseconds);

    /// <summary>Drains or restores the route; returns whether that changed anything.</summary>
    internal bool SetDrained(bool drained) => Interlocked.Exchange(ref _drained, drained ? 1 : 0) != (drained ? 1 : 0);

    internal void SetRetryAfter(DateTimeOffset until)
    {
        long ticks = until.UtcTicks;
        long current = Volatile.Read(ref _retryAfterUntilTicks);
        while (ticks > current)
        {
            long seen = Interlocked.CompareExchange(ref _retryAfterUntilTicks, ticks, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    internal void SetCircuitState(RouteCircuitState state, TimeSpan breakDuration = default)
    {
        if (state == RouteCircuitState.Open)
        {
            long until = breakDuration == TimeSpan.MaxValue ? long.MaxValue : (_timeProvider.GetUtcNow() + breakDuration).UtcTicks;
            Volatile.Write(ref _circuitOpenUntilTicks, until);
        }

        Volatile.Write(ref _circuitState, (int)state);
    }

    private void UpdateAverage(ref long bits, double sample)
    {
        long current = Volatile.Read(ref bits);
        while (true)
        {
            double old = BitConverter.Int64BitsToDouble(current);
            double updated = double.IsNaN(old) ? sample : old + (SmoothingFactor * (sample - old));
            long seen = Interlocked.CompareExchange(ref bits, BitConverter.DoubleToInt64Bits(updated), current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
