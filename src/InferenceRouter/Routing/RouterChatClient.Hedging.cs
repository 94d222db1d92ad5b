using System.Runtime.ExceptionServices;

namespace InferenceRouter;

public sealed partial class RouterChatClient
{
    /// <summary>
    /// Starts the first candidate; whenever <see cref="RouterOptions.HedgingDelay"/> passes without an answer, or an attempt fails,
    /// starts the next one too (up to <see cref="RouterOptions.MaxHedgedAttempts"/> at once). The first success wins; the others are cancelled.
    /// </summary>
    private async ValueTask<Winner<T>> RunHedgedAsync<T>(RouteSelection selection, AttemptFunc<T> func, RouterCall call, AttemptTimeouts timeouts, Func<AttemptResult<T>, Task> discard)
    {
        var delay = _options.HedgingDelay!.Value;
        int maxAttempts = _options.MaxAttempts ?? int.MaxValue;
        var attempts = new List<(long Started, RouteAttempt Attempt)>();
        var running = new List<Task<AttemptResult<T>>>();
        var cancellations = new List<AttemptCancellation>();
        var runningRoutes = new List<(ChatRoute Route, long Started)>();
        var refusal = default(RequestRefusal);
        int next = 0, started = 0;
        bool hedged = false;
        Exception? rejection = null; // a hedge denied for the whole call (a Reject limit): no more hedges; surfaces only if nothing else answers
        using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(call.CallerToken);
        Task? delayTask = null;

        bool StartNext()
        {
            while (rejection is null && next < selection.OrderedCount && started < maxAttempts)
            {
                var route = selection.GetOrdered(next++);
                if (!refusal.Admits(route))
                {
                    continue; // after a context-length refusal, only a route with a larger declared window can help
                }

                if (started > 0 && route.Health.IsUnavailable(out _))
                {
                    attempts.Add((_time.GetTimestamp(), new RouteAttempt(route.Name, RouteAttemptOutcome.Skipped, TimeSpan.Zero)));
                    continue;
                }

                started++;
                RouterLog.Attempting(_logger, route.Name, started, selection.OrderedCount, call.PolicyName);
                var cancellation = AttemptCancellation.Rent(call.CallerToken, timeouts);
                runningRoutes.Add((route, _time.GetTimestamp()));
                running.Add(RunAttemptAsync(route, func, call, cancellation).AsTask());
                cancellations.Add(cancellation);
                return true;
            }

            return false;
        }

        void CancelOthers()
        {
            for (int i = 0; i < running.Count; i++)
            {
                cancellations[i].CancelByRouter();
                _ = DiscardLoserAsync(running[i], discard);
            }

            running.Clear();
            cancellations.Clear();
            runningRoutes.Clear();
        }

        // Every attempt in the order it started, the losers still running when the winner answered included (cancelled by hedging, with
        // their time until then): they end in the background, but they were attempts of this call.
        RouteAttempt[] AllAttempts()
        {
            foreach (var (route, startedAt) in runningRoutes)
            {
                attempts.Add((startedAt, new RouteAttempt(route.Name, RouteAttemptOutcome.Cancelled, _time.GetElapsedTime(startedAt))));
            }

            attempts.Sort(static (a, b) => a.Started.CompareTo(b.Started));
            var all = new RouteAttempt[attempts.Count];
            for (int i = 0; i < all.Length; i++)
            {
                all[i] = attempts[i].Attempt;
            }

            return all;
        }

        StartNext();
        long queueStarted = 0;
        try
        {
        Queued:
            while (running.Count > 0)
            {
                if (delayTask is null && rejection is null && running.Count < _options.MaxHedgedAttempts && next < selection.OrderedCount && started < maxAttempts)
                {
                    delayTask = Task.Delay(delay, _time, delayCancellation.Token);
                }

                var done = delayTask is null ? await Task.WhenAny(running).ConfigureAwait(false) : await Task.WhenAny([.. running, delayTask]).ConfigureAwait(false);
                if (done == delayTask)
                {
                    delayTask = null;
                    call.CallerToken.ThrowIfCancellationRequested();
                    if (StartNext())
                    {
                        hedged = true;
                        RouterLog.Hedging(_logger, selection.GetOrdered(next - 1).Name);
                    }

                    continue;
                }

                int index = running.IndexOf((Task<AttemptResult<T>>)done);
                var result = await running[index].ConfigureAwait(false);
                var cancellation = cancellations[index];
                long startedAt = runningRoutes[index].Started;
                running.RemoveAt(index);
                cancellations.RemoveAt(index);
                runningRoutes.RemoveAt(index);
                attempts.Add((startedAt, result.ToAttempt()));
                if (result.Succeeded)
                {
                    return new Winner<T>(result, AllAttempts(), hedged); // the others are cancelled on the way out
                }

                cancellation.Return();
                if (result.Outcome == RouteAttemptOutcome.NotAdmitted && result.EndsCall && running.Count > 0)
                {
                    // The hedge was denied for the whole call (a Reject budget), so it simply does not start; the attempts already running carry on.
                    started--;
                    rejection = result.Error;
                    continue;
                }

                if (result.Outcome is RouteAttemptOutcome.NotAdmitted or RouteAttemptOutcome.Skipped)
                {
                    started--; // The route was never called.
                }

                OnAttemptFailed(result, call);
                refusal = refusal.After(result);

                if (running.Count < _options.MaxHedgedAttempts)
                {
                    StartNext();
                }
            }

            if (rejection is not null)
            {
                ExceptionDispatchInfo.Capture(rejection).Throw();
            }

            refusal.ThrowIfAny();
            var failure = AllFailed(AllAttempts(), call);
            queueStarted = queueStarted == 0 ? _time.GetTimestamp() : queueStarted;
            if (await WaitForQuotaAsync(failure, queueStarted, call.CallerToken).ConfigureAwait(false))
            {
                // Every candidate's quota was full and one frees up within QuotaQueueTimeout: start over once it has.
                attempts.Clear();
                (next, started, refusal) = (0, 0, default);
                StartNext();
                goto Queued;
            }

            throw failure;
        }
        finally
        {
            // Leaving for any other reason (the caller cancelled between hedges, a rethrown error): attempts still running are
            // cancelled and, if they answer anyway, discarded and charged; none is left holding its reservation.
            CancelOthers();
            await delayCancellation.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for a cancelled hedged attempt to end; one that succeeded anyway is discarded (a stream is closed) and charged. Runs unobserved,
    /// so it observes every error itself.
    /// </summary>
    private async Task DiscardLoserAsync<T>(Task<AttemptResult<T>> loser, Func<AttemptResult<T>, Task> discard)
    {
        try
        {
            var result = await loser.ConfigureAwait(false);
            if (result.Succeeded)
            {
                await discard(result).ConfigureAwait(false);
            }
            else
            {
                result.Cancellation?.Return();
            }
        }
        catch (Exception e)
        {
            RouterLog.HedgeCleanupFailed(_logger, e.GetType().Name, e);
        }
    }
}
