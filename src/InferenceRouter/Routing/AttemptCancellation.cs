using System.Collections.Concurrent;

namespace InferenceRouter;

/// <summary>
/// A pooled cancellation source for one attempt: it fires on the caller's cancellation, on the attempt's timeout, or when hedging
/// cancels a losing attempt, and remembers which.
/// </summary>
internal sealed class AttemptCancellation
{
    private const int MaxPooled = 256;
    private static readonly ConcurrentQueue<AttemptCancellation> s_pool = new();
    private static int s_pooled;

    private CancellationTokenSource _source = new();
    private CancellationTokenRegistration _callerRegistration;
    private volatile bool _cancelledByRouter;

    public CancellationToken CallerToken { get; private set; }

    public CancellationToken Token => _source.Token;

    /// <summary>Gets a value indicating whether the attempt was cancelled by its timeout (not the caller, not hedging).</summary>
    public bool TimedOut => _source.IsCancellationRequested && !_cancelledByRouter && !CallerToken.IsCancellationRequested;

    public bool CancelledByRouter => _cancelledByRouter;

    /// <summary>Gets the timeout running now (for the message when it fires).</summary>
    public TimeSpan? Timeout { get; private set; }

    public static AttemptCancellation Rent(CancellationToken callerToken, TimeSpan? timeout)
    {
        if (s_pool.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref s_pooled);
        }
        else
        {
            item = new AttemptCancellation();
        }

        item.CallerToken = callerToken;
        if (callerToken.CanBeCanceled)
        {
            item._callerRegistration = callerToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), item._source);
        }

        item.Timeout = timeout;
        if (timeout is { } t)
        {
            item._source.CancelAfter(t);
        }

        return item;
    }

    /// <summary>Restarts the timeout, e.g. from time-to-first-token to the rest of the attempt.</summary>
    public void ResetTimeout(TimeSpan? timeout)
    {
        Timeout = timeout;
        _source.CancelAfter(timeout ?? System.Threading.Timeout.InfiniteTimeSpan);
    }

    public void CancelByRouter()
    {
        _cancelledByRouter = true;
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already returned: nothing left to cancel.
        }
    }

    public void Return()
    {
        _callerRegistration.Dispose();
        _callerRegistration = default;
        CallerToken = default;
        if (_cancelledByRouter || !_source.TryReset())
        {
            // A cancelled source cannot be reset, and a hedged loser may still observe its token: keep it alive, take a fresh one.
            _source = new CancellationTokenSource();
            _cancelledByRouter = false;
        }

        if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
        {
            s_pool.Enqueue(this);
            return;
        }

        Interlocked.Decrement(ref s_pooled);
        _source.Dispose();
    }
}
