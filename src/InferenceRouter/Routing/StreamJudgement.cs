namespace InferenceRouter;

/// <summary>
/// Keeps a streaming attempt inside its route's circuit breaker until the stream ends, so the breaker judges the whole stream:
/// one that dies part-way is one failure (not a success and a failure), one the caller or a hedge abandons is neither, and a
/// half-open circuit's trial lasts until the trial stream ends.
/// </summary>
internal sealed class StreamJudgement
{
    private readonly TaskCompletionSource<StreamStart?> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception?> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes with the stream once it delivered its first useful update, or with null when the attempt ended without.</summary>
    public Task<StreamStart?> Opened => _opened.Task;

    /// <summary>Gets a task that completes when the stream ended: with null when it completed, else the error (a cancellation is neutral).</summary>
    public Task<Exception?> Ended => _ended.Task;

    public void Open(StreamStart start)
    {
        start.Judgement = this;
        _opened.TrySetResult(start);
    }

    /// <summary>The attempt ended; if the stream never opened, whoever waits for it learns so.</summary>
    public void NotOpened() => _opened.TrySetResult(null);

    /// <summary>Ends the stream: <see langword="null"/> when it completed, the error when it failed, an <see cref="OperationCanceledException"/> when abandoned.</summary>
    public void End(Exception? error) => _ended.TrySetResult(error);
}
