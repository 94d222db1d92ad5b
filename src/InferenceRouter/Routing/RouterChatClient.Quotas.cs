namespace InferenceRouter;

public sealed partial class RouterChatClient
{
    // A call waiting on routes full only for concurrency learns of a free permit by looking again this often.
    private static readonly TimeSpan s_concurrencyRecheck = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// When every candidate's quota was full (<paramref name="failure"/> is a <see cref="RouteQuotaExceededException"/>) and the first of
    /// them frees up before <see cref="RouterOptions.QuotaQueueTimeout"/> has passed since <paramref name="queueStarted"/>, waits until it
    /// has and returns true (the caller tries again); otherwise returns false at once (the call fails now: no point waiting for nothing).
    /// </summary>
    private async ValueTask<bool> WaitForQuotaAsync(Exception failure, long queueStarted, CancellationToken cancellationToken)
    {
        if (failure is not RouteQuotaExceededException full || _options.QuotaQueueTimeout <= TimeSpan.Zero)
        {
            return false;
        }

        var left = _options.QuotaQueueTimeout - _time.GetElapsedTime(queueStarted);
        var wait = full.RetryAfter ?? s_concurrencyRecheck;
        if (wait > left)
        {
            return false;
        }

        await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
