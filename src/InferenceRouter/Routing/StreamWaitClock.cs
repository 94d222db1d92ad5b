namespace InferenceRouter;

/// <summary>
/// The time a stream's reader spent waiting for its provider after the first update (the caller's reading time left out): what the
/// route's time per output token is learned from.
/// </summary>
/// <remarks>
/// Reading the clock costs about as much as handing over an update that was already there, and most updates of a fast stream are
/// (a local model, a burst of buffered chunks). So a wait the provider made asynchronous is always timed (its clock reads cost
/// nothing beside the wait), and of the waits that completed at once the first <see cref="TimedFirst"/> and then one in
/// <see cref="SampleEvery"/> are timed and scaled to all of them: an estimate of a quantity that is only ever an estimate, at about
/// a quarter of the clock reads on a long stream.
/// </remarks>
internal struct StreamWaitClock
{
    /// <summary>Gets how many immediate waits are all timed before sampling starts.</summary>
    internal const int TimedFirst = 1;

    /// <summary>Gets how often an immediate wait is timed after the first ones.</summary>
    internal const int SampleEvery = 8;

    /// <summary>What <see cref="Start"/> returns for a wait that is not timed (no clock returns it).</summary>
    private const long NotTimed = long.MinValue;

    private long _pendingTicks;
    private long _sampledTicks;
    private int _immediate;
    private int _sampled;

    /// <summary>Reads the clock before a wait when this wait is to be timed should it complete at once.</summary>
    public readonly long Start(TimeProvider time) =>
        _immediate < TimedFirst || _immediate % SampleEvery == 0 ? time.GetTimestamp() : NotTimed;

    /// <summary>The wait completed at once.</summary>
    public void EndImmediate(TimeProvider time, long started)
    {
        if (started != NotTimed)
        {
            _sampledTicks += time.GetTimestamp() - started;
            _sampled++;
        }

        _immediate++;
    }

    /// <summary>The wait did not complete at once: it is timed from now if it was not already.</summary>
    public readonly long StartPending(TimeProvider time, long started) => started != NotTimed ? started : time.GetTimestamp();

    /// <summary>A wait that did not complete at once ended.</summary>
    public void EndPending(TimeProvider time, long started) => _pendingTicks += time.GetTimestamp() - started;

    /// <summary>Gets the provider's time: the timed waits plus the sampled immediate waits scaled to all of them.</summary>
    public readonly TimeSpan Elapsed(TimeProvider time)
    {
        long ticks = _pendingTicks + (_sampled == 0 ? 0 : (long)((double)_sampledTicks * _immediate / _sampled));
        return TimeSpan.FromSeconds((double)ticks / time.TimestampFrequency);
    }
}
