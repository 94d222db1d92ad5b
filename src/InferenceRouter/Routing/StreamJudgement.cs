using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;
using Polly;

namespace InferenceRouter;

/// <summary>
/// Keeps a streaming attempt inside its route's circuit breaker until the stream ends, so the breaker judges the whole stream:
/// one that dies part-way is one failure (not a success and a failure), one the caller or a hedge abandons is neither, and a
/// half-open circuit's trial lasts until the trial stream ends.
/// </summary>
/// <remarks>
/// Polly v8 has no way to report an outcome to a circuit breaker other than finishing an execution, so the breaker's execution stays
/// pending while the stream is read. This object is that pending execution's only state: pooled, it is the value-task source the
/// execution waits on until <see cref="End"/> (no <see cref="TaskCompletionSource{TResult}"/>, no wrapping state machine), and it watches
/// the execution to learn when the breaker has judged (then it returns the Polly context and itself to their pools).
/// </remarks>
internal sealed class StreamJudgement : IValueTaskSource<Outcome<object>>, IValueTaskSource<bool>
{
    private const int MaxPooled = 256;
    private static readonly ConcurrentQueue<StreamJudgement> s_pool = new();
    private static int s_pooled;

    private readonly Action _onExecuted;

    // The breaker judges inside End, on the thread that ends the stream: nothing in that continuation blocks (Polly schedules its
    // OnOpened/OnClosed callbacks on its own executor).
    private ManualResetValueTaskSourceCore<Outcome<object>> _ended;

    // Whoever waits for the stream to open resumes on the thread pool, never inside the provider's stream.
    private ManualResetValueTaskSourceCore<bool> _opened = new() { RunContinuationsAsynchronously = true };
    private ConfiguredValueTaskAwaitable<Outcome<object>>.ConfiguredValueTaskAwaiter _execution;
    private ResilienceContext? _context;
    private volatile StreamStart? _start;
    private Outcome<object> _failure;
    private ExceptionDispatchInfo? _fault;

    private StreamJudgement() => _onExecuted = OnExecuted;

    /// <summary>Gets the stream once it opened, or null.</summary>
    public StreamStart? Start => _start;

    /// <summary>Gets the execution's outcome when the stream never opened (a failure, a rejection by the breaker, a neutral cancellation).</summary>
    public Outcome<object> Failure
    {
        get
        {
            _fault?.Throw();
            return _failure;
        }
    }

    public static StreamJudgement Rent()
    {
        if (s_pool.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref s_pooled);
            return item;
        }

        return new StreamJudgement();
    }

    /// <summary>Called inside the breaker's execution once the stream delivered its first useful update: the execution then waits for <see cref="End"/>.</summary>
    public ValueTask<Outcome<object>> Open(StreamStart start)
    {
        var ended = new ValueTask<Outcome<object>>(this, _ended.Version);
        start.AttachJudgement(this);
        _start = start;
        _opened.SetResult(true);
        return ended;
    }

    /// <summary>
    /// The breaker's execution did not finish at once: watch it. The returned task completes when the stream opened (<see cref="Start"/>) or
    /// the execution ended without it (<see cref="Failure"/>; then the caller returns this object with <see cref="Return"/>).
    /// </summary>
    public ValueTask<bool> Watch(ValueTask<Outcome<object>> execution, ResilienceContext context)
    {
        _context = context;
        _execution = execution.ConfigureAwait(false).GetAwaiter();
        var opened = new ValueTask<bool>(this, _opened.Version);
        _execution.UnsafeOnCompleted(_onExecuted);
        return opened;
    }

    /// <summary>Ends the stream: <see langword="null"/> when it completed, the error when it failed, an <see cref="OperationCanceledException"/> when abandoned.</summary>
    /// <remarks>Called once (<see cref="StreamStart.EndJudgement"/>); this object may be back in the pool when it returns.</remarks>
    public void End(Exception? error) =>
        _ended.SetResult(error is null ? Outcome.FromResult<object>(_start!) : Outcome.FromException<object>(error));

    /// <summary>Returns a judgement whose stream never opened (or was never watched) to the pool.</summary>
    public void Return()
    {
        _start = null;
        _context = null;
        _execution = default;
        _failure = default;
        _fault = null;
        _ended.Reset();
        _opened.Reset();
        if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
        {
            s_pool.Enqueue(this);
            return;
        }

        Interlocked.Decrement(ref s_pooled);
    }

    /// <summary>Reads a finished execution's outcome; a cancellation is neutral (the breaker's predicate threw it out of the judgement).</summary>
    public static Outcome<object> Read(ConfiguredValueTaskAwaitable<Outcome<object>>.ConfiguredValueTaskAwaiter execution)
    {
        try
        {
            return execution.GetResult();
        }
        catch (NeutralOutcomeException neutral)
        {
            return Outcome.FromException<object>(neutral.InnerException!);
        }
    }

    private void OnExecuted()
    {
        Outcome<object> outcome = default;
        ExceptionDispatchInfo? fault = null;
        try
        {
            outcome = Read(_execution);
        }
        catch (Exception e)
        {
            fault = ExceptionDispatchInfo.Capture(e);
        }

        ResilienceContextPool.Shared.Return(_context!);
        if (_start is null)
        {
            // Never opened: whoever waits for the stream learns so, reads the failure and returns this object.
            _failure = outcome;
            _fault = fault;
            _opened.SetResult(false);
            return;
        }

        // Opened and ended: the stream's reader and the attempt are done with it.
        Return();
    }

    Outcome<object> IValueTaskSource<Outcome<object>>.GetResult(short token) => _ended.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<Outcome<object>>.GetStatus(short token) => _ended.GetStatus(token);

    void IValueTaskSource<Outcome<object>>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _ended.OnCompleted(continuation, state, token, flags);

    bool IValueTaskSource<bool>.GetResult(short token) => _opened.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _opened.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _opened.OnCompleted(continuation, state, token, flags);
}
