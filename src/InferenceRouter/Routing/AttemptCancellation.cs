using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace InferenceRouter;

/// <summary>
/// One attempt's cancellation and timeouts, enforced by the router whatever the provider's SDK does with its token: the attempt ends
/// when the caller cancels, when hedging cancels a losing attempt, or when the provider used up its time, and this object remembers
/// which. The router's waits on the provider go through it (<see cref="WaitAsync(ValueTask{bool}, IAsyncDisposable, bool)"/>,
/// <see cref="WaitAsync{T}(Task{T})"/>), so a wait ends when the attempt does even if the SDK never looks at its token.
/// </summary>
/// <remarks>
/// <para>
/// Time is the provider's only: the clock runs while the router waits for the provider (for the first update, for each next one, for
/// an answer), never while the caller reads. Before the first update the budget is the first timeout (<c>TimeToFirstTokenTimeout</c>,
/// else <c>AttemptTimeout</c>); once the first update is handed over (<see cref="TryHandOver"/>), the first-token timer can no longer
/// end anything and the rest is bounded by <c>AttemptTimeout</c> alone, counted from the attempt's start.
/// </para>
/// <para>
/// One state word decides every race: the timer, the caller, hedging and the provider's answer each try to move it, and only the first
/// move counts. A timer that fires while the caller reads goes idle until the next wait (one timer per attempt, re-armed lazily: no
/// timer work per update). A wait that ends because the attempt ended (caller, timeout) abandons the provider's pending operation; that
/// operation is observed when it finishes and its enumerator disposed then. A hedging loser is not abandoned: it is cancelled and left
/// to end on its own, so an answer it produced anyway is still charged.
/// </para>
/// <para>
/// Pooled. Ending an attempt cancels the provider's token, and the provider may run the router on inline from there, up to returning
/// this object and renting it for the next attempt: so what an end does after cancelling acts on the rental it was decided for (the
/// generation in the state word). An instance with an abandoned operation still outstanding is not pooled again.
/// </para>
/// </remarks>
internal sealed class AttemptCancellation : IValueTaskSource<bool>
{
    private const int MaxPooled = 256;

    // _state: the phase in the low bits, the number of the current waiting period above them, the rental's generation in the high
    // half. It only ever moves forward, so a compare-and-swap decided on one value can never apply to a later period or rental.
    private const int PhaseBits = 3;
    private const long PhaseMask = (1 << PhaseBits) - 1;
    private const int Running = 0;          // not waiting for the provider (the caller is reading, or the router works)
    private const int Waiting = 1;          // waiting for the provider: its time runs
    private const int TimedOutPhase = 2;    // ended: the provider used up its time
    private const int ByRouter = 3;         // ended: hedging cancelled it
    private const int ByCaller = 4;         // ended: the caller cancelled
    private const int Idle = 5;             // returned: nothing to end

    // _await: the router's wait on one pending provider operation, in the low bits; the rental's generation above them.
    private const int AwaitBits = 2;
    private const int AwaitMask = (1 << AwaitBits) - 1;
    private const int NoAwait = 0;
    private const int Pending = 1;
    private const int Abandoned = 2;        // the attempt ended first; the operation is still outstanding
    private const int AbandonDone = 3;      // the abandoned operation finished, was observed and its enumerator disposed

    private const long Infinite = long.MaxValue;

    private static readonly ConcurrentQueue<AttemptCancellation> s_pool = new();
    private static int s_pooled;

    private readonly Action _onPendingCompleted;
    private CancellationTokenSource _source = new();
    private CancellationTokenRegistration _callerRegistration;
    private Timer? _timer;
    private int _generation;
    private long _state;
    private int _timerIdle;
    private long _started;
    private long _periodStart;
    private long _consumed;
    private long _budget;
    private AttemptTimeouts _timeouts;
    private bool _handedOver;

    private ManualResetValueTaskSourceCore<bool> _wait;
    private ConfiguredValueTaskAwaitable<bool>.ConfiguredValueTaskAwaiter _pending;
    private IAsyncDisposable? _pendingOwner;
    private int _await;
    private bool _periodActive;
    private bool _abandoned;

    private AttemptCancellation() => _onPendingCompleted = OnPendingCompleted;

    /// <summary>Gets the caller's token.</summary>
    public CancellationToken CallerToken { get; private set; }

    /// <summary>Gets the token given to the provider: cancelled when the attempt ends (caller, hedging or timeout).</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Gets a value indicating whether the attempt has ended (timed out or cancelled).</summary>
    public bool Ended => Phase(Volatile.Read(ref _state)) >= TimedOutPhase;

    /// <summary>Gets a value indicating whether the provider used up its time (not the caller, not hedging).</summary>
    public bool TimedOut => Phase(Volatile.Read(ref _state)) == TimedOutPhase;

    /// <summary>
    /// Gets the provider's answer the router stopped waiting for when the attempt ended (caller, timeout), still outstanding then; null
    /// when there is none. Read it before <see cref="Return"/>.
    /// </summary>
    public Task? AbandonedAnswer { get; private set; }

    /// <summary>Gets a value indicating whether hedging cancelled the attempt.</summary>
    public bool CancelledByRouter => Phase(Volatile.Read(ref _state)) == ByRouter;

    /// <summary>Rents one for an attempt starting now: the provider's clock starts running.</summary>
    /// <param name="callerToken">The caller's token.</param>
    /// <param name="timeouts">The attempt's timeouts.</param>
    /// <returns>The attempt's cancellation.</returns>
    public static AttemptCancellation Rent(CancellationToken callerToken, in AttemptTimeouts timeouts)
    {
        if (s_pool.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref s_pooled);
        }
        else
        {
            item = new AttemptCancellation();
        }

        int generation = ++item._generation;
        item._timeouts = timeouts;
        item._handedOver = false;
        item._abandoned = false;
        item.AbandonedAnswer = null;
        item._periodActive = false;
        item._timerIdle = 0;
        item._consumed = 0;
        item._started = item._periodStart = Stopwatch.GetTimestamp();
        item._budget = Ticks(timeouts.First);
        Volatile.Write(ref item._await, generation << AwaitBits | NoAwait);
        Volatile.Write(ref item._state, (long)generation << 32 | Waiting); // period 0: until the first update (or the answer)
        item.CallerToken = callerToken;

        if (callerToken.CanBeCanceled)
        {
            item._callerRegistration = callerToken.UnsafeRegister(static s => ((AttemptCancellation)s!).End(ByCaller), item);
        }

        return item;
    }

    /// <summary>
    /// Starts the provider's clock, once the attempt's admission hooks let it go (their time is theirs, not the provider's): the first
    /// timeout runs from now. Until then only the caller and hedging can end the attempt.
    /// </summary>
    public void Start()
    {
        _started = _periodStart = Stopwatch.GetTimestamp();
        if (_budget != Infinite)
        {
            Arm(_budget);
        }
    }

    /// <summary>
    /// Hands the stream's first update over: the first-token timer can no longer end anything, and the rest of the stream is bounded
    /// by <c>AttemptTimeout</c> (the provider's time, counted from the attempt's start). Returns false when the attempt ended first (a
    /// hedging loser's update is handed over for its accounting: it goes to the loser's cleanup, never to the caller).
    /// </summary>
    /// <returns><see langword="true"/> when the update is the caller's.</returns>
    public bool TryHandOver()
    {
        long state = Volatile.Read(ref _state);
        if (Phase(state) == ByRouter)
        {
            return true; // a hedging loser that produced its first update anyway: never the caller's, but what it produced is charged
        }

        if (Phase(state) != Waiting || Interlocked.CompareExchange(ref _state, With(state, Running), state) != state)
        {
            return false;
        }

        _handedOver = true;
        long consumed = Stopwatch.GetTimestamp() - _started;
        long budget = Ticks(_timeouts.Total);
        Volatile.Write(ref _consumed, consumed);
        Volatile.Write(ref _budget, budget);
        if (budget == Infinite)
        {
            Disarm();
        }
        else if (_timeouts.FirstIsTimeToFirstToken)
        {
            Arm(budget - consumed);
        }

        return true;
    }

    /// <summary>Throws an <see cref="OperationCanceledException"/> when the attempt has ended (<see cref="Explain"/> says why).</summary>
    public void ThrowIfEnded()
    {
        if (Ended)
        {
            throw new OperationCanceledException(Token);
        }
    }

    /// <summary>
    /// What an attempt that ended failed with, whatever the provider's SDK threw or did: a <see cref="TimeoutException"/> naming the
    /// timeout that fired and its value, else an <see cref="OperationCanceledException"/> (the caller's or hedging's).
    /// </summary>
    /// <param name="error">What the SDK threw, if anything (kept as the inner exception unless it is a cancellation).</param>
    /// <param name="route">The route's name.</param>
    /// <param name="streaming">Whether the attempt is a stream.</param>
    /// <returns>The exception to report.</returns>
    public Exception Explain(Exception? error, string route, bool streaming)
    {
        var inner = error is OperationCanceledException ? null : error;
        if (!TimedOut)
        {
            return error as OperationCanceledException
                ?? new OperationCanceledException($"The attempt on route '{route}' was cancelled.", inner, CallerToken.IsCancellationRequested ? CallerToken : Token);
        }

        // Before the hand-over the first timeout was running, after it AttemptTimeout: the message names the one that fired.
        bool first = !_handedOver;
        string name = first && _timeouts.FirstIsTimeToFirstToken ? nameof(RouterOptions.TimeToFirstTokenTimeout) : nameof(RouterOptions.AttemptTimeout);
        var value = (first ? _timeouts.First : _timeouts.Total) ?? TimeSpan.Zero;
        string message = !streaming ? $"Route '{route}' did not answer within {name} ({value})."
            : first ? $"Route '{route}' sent no first update within {name} ({value})."
            : $"Route '{route}' used up its {name} ({value}) waiting for the rest of its stream (the time the caller spent reading is not counted).";
        return new TimeoutException(message, inner);
    }

    /// <summary>
    /// Waits for a provider operation that has not completed yet (check <see cref="ValueTask{TResult}.IsCompleted"/> first: a completed
    /// one is read as it is, with no wait and no allocation). Ends with an <see cref="OperationCanceledException"/> as soon as the attempt
    /// ends (caller, timeout), whatever the SDK does; the abandoned operation's <paramref name="owner"/> is disposed when it finishes.
    /// No allocation: the wait is this object.
    /// </summary>
    /// <param name="pending">The provider's pending operation, e.g. <c>MoveNextAsync()</c>.</param>
    /// <param name="owner">What to dispose once an abandoned operation finishes (the provider's enumerator).</param>
    /// <param name="providerTime">Whether the wait runs the provider's clock (after the first update); before it, the clock runs anyway.</param>
    /// <returns>The operation's result.</returns>
    public ValueTask<bool> WaitAsync(ValueTask<bool> pending, IAsyncDisposable owner, bool providerTime)
    {
        if (providerTime && !BeginPeriod())
        {
            // Ended while the caller read: the operation is abandoned unseen.
            _abandoned = true;
            _ = ObserveAsync(pending, owner);
            throw new OperationCanceledException(Token);
        }

        int generation = _generation;
        _wait.Reset();
        _periodActive = providerTime;
        _pending = pending.ConfigureAwait(false).GetAwaiter();
        _pendingOwner = owner;
        Volatile.Write(ref _await, generation << AwaitBits | Pending);
        _pending.UnsafeOnCompleted(_onPendingCompleted);
        if (Ended)
        {
            Abandon(generation); // an end that came before the wait began found nothing to abandon
        }

        return new ValueTask<bool>(this, _wait.Version);
    }

    /// <summary>
    /// Waits for a provider's answer that has not completed yet; ends with an <see cref="OperationCanceledException"/> as soon as the
    /// attempt ends (caller, timeout). A hedging loser's answer is still waited for: its provider may have produced (and billed) it.
    /// </summary>
    /// <typeparam name="T">The answer's type.</typeparam>
    /// <param name="pending">The provider's pending answer.</param>
    /// <returns>The answer.</returns>
    public async ValueTask<T> WaitAsync<T>(Task<T> pending)
    {
        try
        {
            return await pending.WaitAsync(Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!pending.IsCompleted)
        {
            if (CancelledByRouter)
            {
                return await pending.ConfigureAwait(false);
            }

            _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            AbandonedAnswer = pending; // the provider may still answer (and bill): its usage settles the attempt's charge then
            throw;
        }
    }

    /// <summary>Disposes a provider enumerator, unless an abandoned operation of it is outstanding (then it is disposed when that finishes).</summary>
    /// <param name="enumerator">The enumerator.</param>
    /// <returns>The disposal.</returns>
    public ValueTask DisposeWhenIdleAsync(IAsyncDisposable enumerator) => _abandoned ? default : enumerator.DisposeAsync();

    /// <summary>Cancels the attempt for hedging (another attempt won); its pending waits end when the provider ends them.</summary>
    public void CancelByRouter() => End(ByRouter);

    /// <summary>Returns the instance to the pool once the attempt is over.</summary>
    public void Return()
    {
        _callerRegistration.Dispose();
        _callerRegistration = default;
        CallerToken = default;
        AbandonedAnswer = null;
        Disarm();
        if ((Volatile.Read(ref _await) & AwaitMask) == Abandoned)
        {
            // An abandoned provider operation still holds this instance (and may still look at its token): let it go with it.
            _timer?.Dispose();
            return;
        }

        bool ended = Ended;
        Volatile.Write(ref _state, (long)_generation << 32 | Idle);
        if (ended || !_source.TryReset())
        {
            // A cancelled source cannot be reset, and a provider call may still look at its token: keep it alive, take a fresh one.
            _source = new CancellationTokenSource();
        }

        if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
        {
            s_pool.Enqueue(this);
            return;
        }

        Interlocked.Decrement(ref s_pooled);
        _source.Dispose();
        _timer?.Dispose();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _wait.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wait.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wait.OnCompleted(continuation, state, token, flags);

    private static int Phase(long state) => (int)(state & PhaseMask);

    private static int Generation(long state) => (int)(state >> 32);

    private static long With(long state, int phase) => (state & ~PhaseMask) | (long)phase;

    private static long Ticks(TimeSpan? timeout) => timeout is { } t ? (long)(t.TotalSeconds * Stopwatch.Frequency) : Infinite;

    private static async Task ObserveAsync(ValueTask<bool> pending, IAsyncDisposable owner)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch
        {
            // Abandoned: nobody waits for its outcome.
        }

        await DisposeQuietlyAsync(owner).ConfigureAwait(false);
    }

    private static async ValueTask DisposeQuietlyAsync(IAsyncDisposable owner)
    {
        try
        {
            await owner.DisposeAsync().ConfigureAwait(false);
        }
        catch
        {
            // The stream is over; failing to close it concerns nobody now.
        }
    }

    /// <summary>Starts a waiting period after the first update: the provider's clock runs. False when the attempt already ended.</summary>
    private bool BeginPeriod()
    {
        long state = Volatile.Read(ref _state);
        if (Phase(state) != Running)
        {
            return false;
        }

        Volatile.Write(ref _periodStart, Stopwatch.GetTimestamp());
        long next = With(state + (1 << PhaseBits), Waiting);
        if (Interlocked.CompareExchange(ref _state, next, state) != state)
        {
            return false;
        }

        if (Interlocked.Exchange(ref _timerIdle, 0) == 1)
        {
            // The timer fired while the caller read and went idle: it runs again with the provider's clock.
            Arm(Volatile.Read(ref _budget) - Volatile.Read(ref _consumed));
        }

        return true;
    }

    /// <summary>Ends a waiting period after the first update: the provider's clock stops (the caller reads).</summary>
    private void EndPeriod()
    {
        long state = Volatile.Read(ref _state);
        if (Phase(state) == Waiting && Interlocked.CompareExchange(ref _state, With(state, Running), state) == state)
        {
            Volatile.Write(ref _consumed, _consumed + Stopwatch.GetTimestamp() - _periodStart);
        }
    }

    /// <summary>The provider's pending operation finished: hand its result to the router's wait, or, if abandoned, clean it up.</summary>
    private void OnPendingCompleted()
    {
        int current = Volatile.Read(ref _await);
        if ((current & AwaitMask) == Pending && Interlocked.CompareExchange(ref _await, (current & ~AwaitMask) | NoAwait, current) == current)
        {
            if (_periodActive)
            {
                EndPeriod();
            }

            bool result;
            try
            {
                result = _pending.GetResult();
            }
            catch (Exception e)
            {
                _wait.SetException(e);
                return;
            }

            if (_periodActive && Ended)
            {
                // The update arrived, but the attempt ended first (e.g. the provider's time ran out): the first end decides.
                _wait.SetException(new OperationCanceledException(Token));
                return;
            }

            _wait.SetResult(result);
            return;
        }

        // Abandoned (an abandoned instance is never rented again): observe the outcome, close the enumerator, let the instance go.
        var pending = _pending;
        var owner = _pendingOwner;
        _pending = default;
        _pendingOwner = null;
        try
        {
            pending.GetResult();
        }
        catch
        {
            // Nobody waits for it any more.
        }

        Volatile.Write(ref _await, (current & ~AwaitMask) | AbandonDone);
        if (owner is not null)
        {
            _ = DisposeQuietlyAsync(owner);
        }
    }

    /// <summary>Ends the rental's pending wait because the attempt ended; the provider's operation is left to finish on its own.</summary>
    private void Abandon(int generation)
    {
        if (Phase(Volatile.Read(ref _state)) == ByRouter)
        {
            return; // a hedging loser ends on its own: what it produced is still charged
        }

        int pending = generation << AwaitBits | Pending;
        if (Interlocked.CompareExchange(ref _await, generation << AwaitBits | Abandoned, pending) == pending)
        {
            _abandoned = true;
            _wait.SetException(new OperationCanceledException(_source.Token));
        }
    }

    /// <summary>Ends the attempt (the first end wins), cancels the provider's token, and ends a wait the SDK did not end itself.</summary>
    private void End(int why)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if (Phase(state) >= TimedOutPhase)
            {
                return;
            }

            // Read between the state and the swap: if the swap succeeds, the state never moved meanwhile, so this is its rental's source.
            var source = _source;
            if (Interlocked.CompareExchange(ref _state, With(state, why), state) == state)
            {
                Cancel(source, Generation(state));
                return;
            }
        }
    }

    /// <summary>
    /// Cancels the provider's token (an SDK that honours it ends its own wait, and may run the router on inline, even into the next
    /// attempt), then abandons the wait of the rental the end was decided for, if it is still pending.
    /// </summary>
    private void Cancel(CancellationTokenSource source, int generation)
    {
        try
        {
            source.Cancel();
        }
        catch (Exception e) when (e is AggregateException or ObjectDisposedException)
        {
            // A provider's cancellation callback failed, or the source is gone with its attempt.
        }

        Abandon(generation);
    }

    private void Arm(long ticks)
    {
        // A millisecond more: a timer never fires early for what remains, and never spins on sub-millisecond remainders.
        var due = TimeSpan.FromSeconds(Math.Max(ticks, 0) / (double)Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1);
        if (_timer is null)
        {
            // The timer outlives the call that created it (pooled): it must not capture that call's execution context.
            bool suppress = !ExecutionContext.IsFlowSuppressed();
            var flow = suppress ? ExecutionContext.SuppressFlow() : default;
            try
            {
                _timer = new Timer(static s => ((AttemptCancellation)s!).OnTimer(), this, due, Timeout.InfiniteTimeSpan);
            }
            finally
            {
                if (suppress)
                {
                    flow.Undo();
                }
            }

            return;
        }

        try
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Let go: nothing to time.
        }
    }

    private void Disarm()
    {
        try
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Let go: nothing to time.
        }
    }

    /// <summary>
    /// The timer fired: end the attempt if the provider's time is used up, else look again when it could be. While the caller reads
    /// the provider's clock stands still, so the timer goes idle until the next wait (<see cref="BeginPeriod"/>) runs it again.
    /// </summary>
    private void OnTimer()
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int phase = Phase(state);
            long budget = Volatile.Read(ref _budget);
            if (phase >= TimedOutPhase || budget == Infinite)
            {
                return;
            }

            if (phase == Running)
            {
                Volatile.Write(ref _timerIdle, 1);
                if (Volatile.Read(ref _state) == state || Interlocked.Exchange(ref _timerIdle, 0) == 0)
                {
                    return; // idle until the next wait, or that wait already took the timer back
                }

                continue; // a wait began meanwhile and left the timer to us
            }

            long used = Volatile.Read(ref _consumed) + Stopwatch.GetTimestamp() - Volatile.Read(ref _periodStart);
            if (used < budget)
            {
                Arm(budget - used); // earlier reading left time
                return;
            }

            var source = _source; // as in End: the swap below succeeds only if this is the source of the state's rental
            if (Interlocked.CompareExchange(ref _state, With(state, TimedOutPhase), state) == state)
            {
                Cancel(source, Generation(state));
                return;
            }
        }
    }
}
