namespace InferenceRouter;

/// <summary>
/// Passive health of one route, measured from real traffic: in-flight attempts, outcomes, latency, time to first token, time per
/// output token, circuit state; and what the router expects a call to take now (<see cref="PredictLatencyMilliseconds"/>).
/// </summary>
/// <remarks>
/// Lock-free: counters use <see cref="Interlocked"/>, estimates a compare-and-swap loop, so policies read it on every call for free.
/// Estimates forget with samples (<see cref="SmoothingFactor"/>) and with time (<see cref="DecayTime"/>); the first attempt's
/// samples (connection set-up, JIT) are replaced by the next; failures and timeouts count as slow samples; attempts still waiting
/// for an answer count with their age. How the pieces fit: docs/routing.md, "How latency is estimated".
/// </remarks>
public sealed class RouteHealth
{
    /// <summary>The default weight of the newest sample in the moving averages.</summary>
    public const double DefaultSmoothingFactor = 0.2;

    /// <summary>The default time after which an estimate not refreshed has lost 63% of its weight: 5 seconds.</summary>
    public static readonly TimeSpan DefaultDecayTime = TimeSpan.FromSeconds(5);

    /// <summary>The default time after which a route not measured is due for a probe: 10 seconds.</summary>
    public static readonly TimeSpan DefaultProbeInterval = TimeSpan.FromSeconds(10);

    // A failed or timed-out attempt counts as a sample at least this many times the estimate: failing fast is not being fast.
    private const double FailurePenalty = 2;

    private readonly TimeProvider _timeProvider;
    private readonly double _decayTicks;
    private readonly long _probeIntervalTicks;
    private readonly long _origin;
    private readonly LatencyEstimate _latency = new();
    private readonly LatencyEstimate _ttft = new();
    private readonly LatencyEstimate _perToken = new();
    private readonly LatencyEstimate _outputTokens = new();
    private readonly LatencyEstimate _errorRate = new();
    private long _inFlight;
    private long _waiting;
    private long _waitingSince; // the sum of the waiting attempts' start timestamps, relative to _origin (no overflow)
    private long _firstStarted;
    private long _attempts;
    private long _successes;
    private long _failures;
    private long _cancellations;
    private long _requestErrors;
    private long _misconfiguredUntilTicks;
    private int _misconfiguredStatus;
    private long _probeTimestamp;
    private long _retryAfterUntilTicks;
    private long _circuitOpenUntilTicks;
    private int _circuitState;
    private int _drained;

    internal RouteHealth(string route, TimeProvider timeProvider, double smoothingFactor = DefaultSmoothingFactor, TimeSpan? decayTime = null, TimeSpan? probeInterval = null)
    {
        Route = route;
        SmoothingFactor = smoothingFactor;
        DecayTime = decayTime ?? DefaultDecayTime;
        ProbeInterval = probeInterval ?? DefaultProbeInterval;
        _timeProvider = timeProvider;
        _decayTicks = DecayTime.TotalSeconds * timeProvider.TimestampFrequency;
        _probeIntervalTicks = (long)(ProbeInterval.TotalSeconds * timeProvider.TimestampFrequency);
        _origin = timeProvider.GetTimestamp();
    }

    /// <summary>Gets the least weight of the newest sample in the moving averages (<see cref="RouterOptions.LatencySmoothing"/>).</summary>
    public double SmoothingFactor { get; }

    /// <summary>Gets how fast an estimate that is not refreshed loses weight (<see cref="RouterOptions.LatencyDecayTime"/>).</summary>
    public TimeSpan DecayTime { get; }

    /// <summary>Gets how long a route may go unmeasured before the <c>lowest-latency</c> policy and the max-latency filter probe it (<see cref="RouterOptions.LatencyProbeInterval"/>).</summary>
    public TimeSpan ProbeInterval { get; }

    /// <summary>Gets the route's name.</summary>
    public string Route { get; }

    /// <summary>Gets the number of attempts under way (streams count until they end).</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the recent error rate (0 to 1), decaying with time like the latency.</summary>
    public double ErrorRate => _errorRate.Value is var rate && double.IsNaN(rate) ? 0 : rate;

    /// <summary>Gets the estimated time the provider takes to give a whole answer (streams: excluding the time the caller spends reading), in milliseconds; NaN before the first sample.</summary>
    public double LatencyMilliseconds => _latency.Value;

    /// <summary>Gets the estimated time to the first streamed update in milliseconds, or NaN before the first stream.</summary>
    public double TimeToFirstTokenMilliseconds => _ttft.Value;

    /// <summary>Gets the estimated time per output token in milliseconds, or NaN before it could be measured (it needs a stream, or a time to first token and usage).</summary>
    public double MillisecondsPerOutputToken => _perToken.Value;

    /// <summary>Gets the estimated output tokens of an answer on this route, or NaN before the first answer with usage.</summary>
    public double TypicalOutputTokens => _outputTokens.Value;

    /// <summary>
    /// Gets the circuit breaker's state as last reported; <see cref="RouteCircuitState.Isolated"/> while an operator drains the route,
    /// <see cref="RouteCircuitState.Misconfigured"/> while it is out of service for a misconfiguration (until a probe answers or it is restored).
    /// </summary>
    public RouteCircuitState CircuitState =>
        IsDrained ? RouteCircuitState.Isolated : IsMisconfigured ? RouteCircuitState.Misconfigured : (RouteCircuitState)Volatile.Read(ref _circuitState);

    /// <summary>
    /// Gets a value indicating whether the route is out of service because its provider said it cannot work as configured (401, 402, 403,
    /// 404, no quota or credit: <see cref="FailureKind.RouteMisconfigured"/>): no call goes to it but a probe now and then
    /// (<see cref="RouterOptions.MisconfiguredRouteProbeInterval"/>), until one answers or an operator calls <see cref="RouterChatClient.RestoreRoute"/>.
    /// </summary>
    public bool IsMisconfigured => Volatile.Read(ref _misconfiguredStatus) != 0;

    /// <summary>Gets the HTTP status that took the route out of service (e.g. 401), or null while it is in service.</summary>
    public int? MisconfiguredStatusCode => Volatile.Read(ref _misconfiguredStatus) is var status and not 0 ? status : null;

    /// <summary>Gets a value indicating whether an operator drained the route (<see cref="RouterChatClient.DrainRoute"/>): no call goes to it.</summary>
    public bool IsDrained => Volatile.Read(ref _drained) != 0;

    /// <summary>
    /// Predicts how long a call on this route takes now, in milliseconds: time to first token for streams; for other calls the
    /// whole-answer latency, adjusted to <paramref name="outputTokens"/> with the time per token when both are known. Attempts still
    /// waiting for their answer raise it to their average age (a route that started hanging looks slow before any attempt fails).
    /// </summary>
    /// <param name="streaming">Whether the call streams.</param>
    /// <param name="outputTokens">The answer length to predict for (compare routes at the same length), or NaN for the route's typical length.</param>
    /// <returns>The prediction; NaN when the route has not been measured for this kind of call.</returns>
    public double PredictLatencyMilliseconds(bool streaming, double outputTokens = double.NaN)
    {
        double predicted;
        if (streaming)
        {
            predicted = _ttft.Value;
        }
        else
        {
            predicted = _latency.Value;
            double perToken = _perToken.Value;
            double typical = _outputTokens.Value;
            if (!double.IsNaN(outputTokens) && !double.IsNaN(perToken) && !double.IsNaN(typical))
            {
                predicted = Math.Max(predicted + (perToken * (outputTokens - typical)), 0);
            }
        }

        long waiting = Volatile.Read(ref _waiting);
        if (waiting > 0 && !double.IsNaN(predicted))
        {
            long since = Volatile.Read(ref _waitingSince);
            double averageAge = (_timeProvider.GetTimestamp() - _origin - ((double)since / waiting)) * 1000 / _timeProvider.TimestampFrequency;
            predicted = Math.Max(predicted, averageAge);
        }

        return predicted;
    }

    /// <summary>Returns whether the estimate for this kind of call rests on no sample, or only on the route's cold first attempt.</summary>
    /// <param name="streaming">Whether the call streams.</param>
    /// <returns><see langword="true"/> when the route should be measured (again) before it is ranked.</returns>
    public bool IsUnmeasured(bool streaming) => streaming ? _ttft.IsCold : _latency.IsCold;

    /// <summary>Returns whether the route is unavailable now (its circuit is open, or it asked callers to wait), and until when.</summary>
    /// <param name="until">When the route becomes available again.</param>
    /// <returns><see langword="true"/> when callers should skip the route now.</returns>
    public bool IsUnavailable(out DateTimeOffset until)
    {
        long retryAfter = Volatile.Read(ref _retryAfterUntilTicks);
        var breaker = (RouteCircuitState)Volatile.Read(ref _circuitState);
        bool drained = IsDrained, misconfigured = IsMisconfigured;
        if (retryAfter == 0 && !drained && !misconfigured && breaker is RouteCircuitState.Closed or RouteCircuitState.HalfOpen)
        {
            // The common case needs no clock.
            until = default;
            return false;
        }

        long now = _timeProvider.GetUtcNow().UtcTicks;
        long circuit = drained || breaker == RouteCircuitState.Isolated ? long.MaxValue : breaker == RouteCircuitState.Open ? Volatile.Read(ref _circuitOpenUntilTicks) : 0;
        long takenOut = misconfigured ? Volatile.Read(ref _misconfiguredUntilTicks) : 0;
        long latest = Math.Max(retryAfter, Math.Max(circuit, takenOut));
        if (latest > now)
        {
            until = latest == long.MaxValue ? DateTimeOffset.MaxValue : new DateTimeOffset(latest, TimeSpan.Zero);
            return true;
        }

        if (retryAfter != 0 && retryAfter <= now)
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
        return new RouteHealthSnapshot(
            Route,
            InFlight,
            Volatile.Read(ref _attempts),
            Volatile.Read(ref _successes),
            Volatile.Read(ref _failures),
            Volatile.Read(ref _cancellations),
            ErrorRate,
            Duration(LatencyMilliseconds),
            Duration(TimeToFirstTokenMilliseconds),
            CircuitState,
            IsUnavailable(out var until) ? until : null,
            Duration(MillisecondsPerOutputToken),
            Volatile.Read(ref _requestErrors),
            MisconfiguredStatusCode);

        static TimeSpan? Duration(double milliseconds) => double.IsNaN(milliseconds) ? null : TimeSpan.FromMilliseconds(milliseconds);
    }

    /// <summary>
    /// Returns whether the route has gone unmeasured for <see cref="ProbeInterval"/> (since its last sample or probe) and, when
    /// <paramref name="claim"/> is set, claims the probe: one caller per due probe.
    /// </summary>
    internal bool TryClaimProbe(bool claim, long now)
    {
        long probed = Volatile.Read(ref _probeTimestamp);
        long measured = Math.Max(Math.Max(_latency.LastTimestamp, _ttft.LastTimestamp), probed);
        if (now - measured < _probeIntervalTicks)
        {
            return false;
        }

        return !claim || Interlocked.CompareExchange(ref _probeTimestamp, now, probed) == probed;
    }

    /// <summary>Gets the router clock's timestamp now (every route of a router shares its clock).</summary>
    internal long Now => _timeProvider.GetTimestamp();

    /// <summary>Gets the attempts started on the route (for probe pacing; cheaper than a snapshot).</summary>
    internal long Attempts => Volatile.Read(ref _attempts);

    internal void OnAttemptStarted(long started)
    {
        if (Interlocked.Increment(ref _attempts) == 1)
        {
            Volatile.Write(ref _firstStarted, started);
        }

        Interlocked.Increment(ref _inFlight);

        // The sum first, the count second (and the reverse when stopping): a reader caught in between underestimates the age, never overestimates it.
        Interlocked.Add(ref _waitingSince, started - _origin);
        Interlocked.Increment(ref _waiting);
    }

    /// <summary>A whole answer arrived (not streamed).</summary>
    internal void OnAnswered(long started, TimeSpan latency, long? outputTokens)
    {
        Interlocked.Increment(ref _successes);
        Interlocked.Decrement(ref _inFlight);
        StopWaiting(started);
        long now = EndOf(started, latency);
        bool cold = IsFirstAttempt(started);
        double milliseconds = latency.TotalMilliseconds;
        _latency.Add(milliseconds, now, SmoothingFactor, _decayTicks, cold);
        if (outputTokens > 0)
        {
            _outputTokens.Add(outputTokens.Value, now, SmoothingFactor, _decayTicks);
            double ttft = _ttft.Value;
            if (!cold && milliseconds > ttft)
            {
                // Without a stream the answer can't be split in two; the time to first token measured on streams gives the split.
                _perToken.Add((milliseconds - ttft) / outputTokens.Value, now, SmoothingFactor, _decayTicks);
            }
        }

        _errorRate.Add(0, now, SmoothingFactor, _decayTicks);
    }

    /// <summary>A stream delivered its first useful update.</summary>
    internal void OnFirstToken(long started, TimeSpan timeToFirstToken)
    {
        StopWaiting(started);
        _ttft.Add(timeToFirstToken.TotalMilliseconds, EndOf(started, timeToFirstToken), SmoothingFactor, _decayTicks, IsFirstAttempt(started));
    }

    /// <summary>A stream ended well: <paramref name="providerTime"/> is the time spent waiting for the provider (the caller's reading time left out).</summary>
    /// <remarks><paramref name="now"/> is the router clock's timestamp when the stream ended (read once by the caller).</remarks>
    internal void OnStreamCompleted(long started, TimeSpan providerTime, TimeSpan generationTime, long outputTokens, long now)
    {
        Interlocked.Increment(ref _successes);
        Interlocked.Decrement(ref _inFlight);
        _latency.Add(providerTime.TotalMilliseconds, now, SmoothingFactor, _decayTicks, IsFirstAttempt(started));
        if (outputTokens > 0)
        {
            _outputTokens.Add(outputTokens, now, SmoothingFactor, _decayTicks);
            _perToken.Add(generationTime.TotalMilliseconds / outputTokens, now, SmoothingFactor, _decayTicks);
        }

        _errorRate.Add(0, now, SmoothingFactor, _decayTicks);
    }

    /// <summary>An attempt failed (or timed out) after <paramref name="elapsed"/>: a slow sample, never a fast one.</summary>
    /// <param name="started">When the attempt started.</param>
    /// <param name="elapsed">How long it took to fail (for streams that failed part-way: the provider's time so far).</param>
    /// <param name="streaming">Whether the call streamed.</param>
    /// <param name="waiting">Whether it failed before its answer (or first update) arrived; otherwise a stream failed part-way.</param>
    internal void OnFailed(long started, TimeSpan elapsed, bool streaming, bool waiting)
    {
        Interlocked.Increment(ref _failures);
        Interlocked.Decrement(ref _inFlight);
        if (waiting)
        {
            StopWaiting(started);
        }

        long now = _timeProvider.GetTimestamp();
        var estimate = streaming && waiting ? _ttft : _latency;
        double current = estimate.Value;
        double sample = double.IsNaN(current) ? elapsed.TotalMilliseconds : Math.Max(elapsed.TotalMilliseconds, FailurePenalty * current);
        estimate.Add(sample, now, SmoothingFactor, _decayTicks, IsFirstAttempt(started));
        _errorRate.Add(1, now, SmoothingFactor, _decayTicks);
    }

    /// <summary>
    /// An attempt was cancelled: by the caller (neutral), or by the router after another attempt won (it would have taken at least
    /// <paramref name="elapsed"/>, which counts when above the estimate).
    /// </summary>
    internal void OnCancelled(long started, TimeSpan elapsed, bool streaming, bool waiting, bool byRouter)
    {
        Interlocked.Increment(ref _cancellations);
        Interlocked.Decrement(ref _inFlight);
        if (waiting)
        {
            StopWaiting(started);
            if (byRouter)
            {
                (streaming ? _ttft : _latency).AddLowerBound(elapsed.TotalMilliseconds, _timeProvider.GetTimestamp(), SmoothingFactor, _decayTicks);
            }
        }
    }

    /// <summary>
    /// The provider refused the attempt for the request's own sake (an invalid request, a prompt too long for the route, a content filter,
    /// something the model cannot do): not the route's fault, so no failure, no error rate and no latency sample.
    /// </summary>
    internal void OnRequestError(long started)
    {
        Interlocked.Increment(ref _requestErrors);
        Interlocked.Decrement(ref _inFlight);
        StopWaiting(started);
    }

    /// <summary>Takes the route out of service for a misconfiguration until <paramref name="until"/> (a probe is let through then); returns whether it was in service.</summary>
    internal bool TakeOut(int status, DateTimeOffset until)
    {
        Volatile.Write(ref _misconfiguredUntilTicks, until == DateTimeOffset.MaxValue ? long.MaxValue : until.UtcTicks);
        return Interlocked.Exchange(ref _misconfiguredStatus, status == 0 ? 401 : status) == 0;
    }

    /// <summary>
    /// For a route out of service: whether this attempt may go ahead as its probe (the probe is due and this caller claimed it, pushing the
    /// next one <paramref name="interval"/> away; zero: no probe). Always true for a route in service; one read on that path.
    /// </summary>
    internal bool TryClaimMisconfiguredProbe(TimeSpan interval)
    {
        if (Volatile.Read(ref _misconfiguredStatus) == 0)
        {
            return true;
        }

        long due = Volatile.Read(ref _misconfiguredUntilTicks);
        var now = _timeProvider.GetUtcNow();
        if (interval <= TimeSpan.Zero || due > now.UtcTicks)
        {
            return false;
        }

        return Interlocked.CompareExchange(ref _misconfiguredUntilTicks, (now + interval).UtcTicks, due) == due;
    }

    /// <summary>Puts a route taken out for a misconfiguration back in service (a probe answered, or an operator restored it); returns whether it was out.</summary>
    internal bool BringBack()
    {
        if (Interlocked.Exchange(ref _misconfiguredStatus, 0) == 0)
        {
            return false;
        }

        Volatile.Write(ref _misconfiguredUntilTicks, 0);
        return true;
    }

    /// <summary>The circuit breaker refused the attempt before it started: it does not count.</summary>
    internal void OnRejected(long started)
    {
        Interlocked.Decrement(ref _attempts);
        Interlocked.Decrement(ref _inFlight);
        StopWaiting(started);
    }

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

    private void StopWaiting(long started)
    {
        Interlocked.Decrement(ref _waiting);
        Interlocked.Add(ref _waitingSince, _origin - started);
    }

    /// <summary>The timestamp an attempt that started at <paramref name="started"/> ended, without reading the clock again.</summary>
    private long EndOf(long started, TimeSpan elapsed) => started + (long)(elapsed.TotalSeconds * _timeProvider.TimestampFrequency);

    private bool IsFirstAttempt(long started) => started == Volatile.Read(ref _firstStarted);
}
