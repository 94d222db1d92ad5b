namespace InferenceRouter;

/// <summary>
/// One moving estimate (a latency, a per-token time, an error rate) that forgets with time as well as with samples, lock-free.
/// </summary>
/// <remarks>
/// A sample's weight is the larger of the smoothing factor and <c>1 - e^(-silence / decay time)</c>: a route called often averages
/// its last several samples, while a sample after a long silence mostly replaces an estimate that no longer says anything about now.
/// The first sample of a route's first attempt carries connection set-up and JIT compilation: it is marked cold, and the next
/// sample replaces it.
/// </remarks>
internal sealed class LatencyEstimate
{
    private long _valueBits = BitConverter.DoubleToInt64Bits(double.NaN);
    private long _lastTimestamp;
    private int _cold;

    /// <summary>Gets the estimate, or NaN before the first sample.</summary>
    public double Value => BitConverter.Int64BitsToDouble(Volatile.Read(ref _valueBits));

    /// <summary>Gets the timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the latest sample; 0 before the first.</summary>
    public long LastTimestamp => Volatile.Read(ref _lastTimestamp);

    /// <summary>Gets a value indicating whether the estimate rests on nothing but a cold first sample (or on nothing).</summary>
    public bool IsCold => Volatile.Read(ref _cold) != 0 || double.IsNaN(Value);

    /// <summary>Adds a sample taken at <paramref name="now"/>.</summary>
    /// <param name="sample">The sample.</param>
    /// <param name="now">The timestamp of the sample.</param>
    /// <param name="smoothing">The least weight of a sample.</param>
    /// <param name="decayTicks">The decay time in timestamp ticks.</param>
    /// <param name="cold">Whether the sample carries set-up costs (the route's first attempt).</param>
    public void Add(double sample, long now, double smoothing, double decayTicks, bool cold = false)
    {
        // Races between concurrent samples only blur the weight a little; the value itself is updated atomically.
        bool replace = (cold || Volatile.Read(ref _cold) != 0) && Interlocked.Exchange(ref _cold, cold ? 1 : 0) != 0;
        long last = Volatile.Read(ref _lastTimestamp);
        Volatile.Write(ref _lastTimestamp, Math.Max(now, last));
        double silence = Math.Max(now - last, 0) / decayTicks;
        double weight = replace ? 1 : silence <= smoothing ? smoothing : Math.Max(smoothing, 1 - Math.Exp(-silence)); // 1 - e^-x <= x: no Exp needed
        long current = Volatile.Read(ref _valueBits);
        while (true)
        {
            double old = BitConverter.Int64BitsToDouble(current);
            double updated = double.IsNaN(old) ? sample : old + (weight * (sample - old));
            long seen = Interlocked.CompareExchange(ref _valueBits, BitConverter.DoubleToInt64Bits(updated), current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Adds a lower bound (an attempt cancelled after this long): it counts only when above the estimate.</summary>
    /// <param name="lowerBound">What the sample was at least.</param>
    /// <param name="now">The timestamp.</param>
    /// <param name="smoothing">The least weight of a sample.</param>
    /// <param name="decayTicks">The decay time in timestamp ticks.</param>
    public void AddLowerBound(double lowerBound, long now, double smoothing, double decayTicks)
    {
        if (lowerBound > Value)
        {
            Add(lowerBound, now, smoothing, decayTicks);
        }
    }
}
