using System.Runtime.ExceptionServices;
using Microsoft.Extensions.AI;
using Polly;
using Polly.CircuitBreaker;

namespace InferenceRouter;

public sealed partial class RouterChatClient
{
    private delegate ValueTask<T> AttemptFunc<T>(ChatRoute route, IEnumerable<ChatMessage> messages, ChatOptions? options, AttemptCancellation? cancellation, CancellationToken cancellationToken);

    private static readonly AttemptFunc<ChatResponse> s_getResponse = ProviderAnswer.GetResponseAsync;
    private static readonly AttemptFunc<StreamStart> s_openStream = StreamStart.OpenAsync;

    /// <summary>Tries candidates one after another until one answers.</summary>
    private async ValueTask<Winner<T>> RunSequentialAsync<T>(RouteSelection selection, AttemptFunc<T> func, RouterCall call, AttemptTimeouts timeouts)
    {
        List<RouteAttempt>? earlier = null;
        int maxAttempts = _options.MaxAttempts ?? int.MaxValue;
        int started = 0;
        var refusal = default(RequestRefusal);
        long queueStarted = 0;
        while (true)
        {
            for (int k = 0; k < selection.OrderedCount && started < maxAttempts; k++)
            {
                var route = selection.GetOrdered(k);
                if (!refusal.Admits(route))
                {
                    continue; // after a context-length refusal, only a route with a larger declared window can help
                }

                if (k > 0 && route.Health.IsUnavailable(out _))
                {
                    // Another call opened its circuit or got a Retry-After since this call's selection.
                    (earlier ??= []).Add(new RouteAttempt(route.Name, RouteAttemptOutcome.Skipped, TimeSpan.Zero));
                    continue;
                }

                started++;
                RouterLog.Attempting(_logger, route.Name, started, selection.OrderedCount, call.PolicyName);
                // Nothing can end an attempt without a timeout or a caller who can cancel: then the router awaits the provider as it is.
                var cancellation = timeouts.Any || call.CallerToken.CanBeCanceled ? AttemptCancellation.Rent(call.CallerToken, timeouts) : null;
                var result = await RunAttemptAsync(route, func, call, cancellation).ConfigureAwait(false);
                if (result.Succeeded)
                {
                    return new Winner<T>(result, Append(earlier, result.ToAttempt()), Hedged: false);
                }

                if (result.Outcome is RouteAttemptOutcome.NotAdmitted or RouteAttemptOutcome.Skipped)
                {
                    started--; // The route was never called.
                }

                cancellation?.Return();
                (earlier ??= []).Add(result.ToAttempt());
                OnAttemptFailed(result, call);
                refusal = refusal.After(result);
            }

            refusal.ThrowIfAny();
            var failure = AllFailed(earlier, call);
            queueStarted = queueStarted == 0 ? _time.GetTimestamp() : queueStarted;
            if (!await WaitForQuotaAsync(failure, queueStarted, call.CallerToken).ConfigureAwait(false))
            {
                throw failure;
            }

            // Every candidate's quota was full and one frees up within QuotaQueueTimeout: start over once it has.
            (earlier, started, refusal) = (null, 0, default);
        }
    }

    /// <summary>Runs one attempt through the route's circuit breaker and records its health, metrics and trace.</summary>
    private async ValueTask<AttemptResult<T>> RunAttemptAsync<T>(ChatRoute route, AttemptFunc<T> func, RouterCall call, AttemptCancellation? cancellation)
    {
        var token = cancellation?.Token ?? call.CallerToken;
        if (!route.Health.TryClaimMisconfiguredProbe(_options.MisconfiguredRouteProbeInterval))
        {
            // Out of service as misconfigured, and another call holds (or nobody is due) its probe.
            return new AttemptResult<T>(route, default, null, RouteAttemptOutcome.Skipped, default, cancellation, _time.GetTimestamp(), TimeSpan.Zero);
        }

        var observers = default(AttemptObservers);
        int? admittedMaxOutput = null;
        if (call.Hooks.Length > 0)
        {
            // The cheap bound is counted once per call, before the first await: hedged attempts share the selection.
            var attempt = new RouteAttemptContext(route, call.Context, call.Selection, call.Selection.CountPromptTokens(TokenCounters.UpperBound));
            foreach (var hook in call.Hooks)
            {
                RouteAdmission admission;
                try
                {
                    // The caller's token, not the attempt's: the router's timeouts bound the provider's time, and a hook that waits (a
                    // quota, a shared ledger) bounds its own waits; a slow hook is never reported as a cancellation nobody asked for.
                    admission = await hook.AdmitAsync(attempt, call.CallerToken).ConfigureAwait(false);
                }
                catch
                {
                    await NotSentAsync(observers, route).ConfigureAwait(false);
                    throw;
                }

                if (!admission.IsAdmitted)
                {
                    await NotSentAsync(observers, route).ConfigureAwait(false);
                    return new AttemptResult<T>(route, default, admission.Denial, RouteAttemptOutcome.NotAdmitted, default, cancellation, _time.GetTimestamp(), TimeSpan.Zero, EndsCall: admission.EndsCall);
                }

                observers = observers.Add(admission.Observer);
                if (admission.MaxOutputTokens is { } max && !(admittedMaxOutput <= max))
                {
                    admittedMaxOutput = max;
                }
            }
        }

        var options = PrepareOptions(call.Options, route, call.StripEntries, admittedMaxOutput);
        cancellation?.Start(); // the provider's time starts now, not before the admission hooks

        var health = route.Health;
        long started = _time.GetTimestamp();
        health.OnAttemptStarted(started);
        using var activity = RouterTelemetry.StartAttempt(call.Activity, route);

        var state = new AttemptState<T>(func, route, call.Messages, options, cancellation, call.Streaming,
            call.Streaming && _options.CircuitBreaker.Enabled ? StreamJudgement.Rent() : null);
        var outcome = await ExecuteInBreakerAsync(route, state, token).ConfigureAwait(false);

        var elapsed = _time.GetElapsedTime(started);
        if (outcome.Exception is null && _options.ContentPolicyFallback == ContentPolicyFallback.FailOver && await IsRefusalAsync(route, outcome.Result).ConfigureAwait(false) is { } refused)
        {
            // An answer that is the content filter's refusal, with failover asked for: a failure of the request's kind, not an answer.
            outcome = Outcome.FromException<T>(refused);
        }

        if (outcome.Exception is null)
        {
            if (call.Streaming)
            {
                health.OnFirstToken(started, elapsed);
                _telemetry.RecordTimeToFirstToken(route, elapsed);
            }
            else
            {
                health.OnAnswered(started, elapsed, (outcome.Result as ChatResponse)?.Usage?.OutputTokenCount);
            }

            if (health.IsMisconfigured && health.BringBack())
            {
                RouterLog.BackInService(_logger, route.Name);
            }

            _telemetry.RecordAttempt(route, RouteAttemptOutcome.Succeeded);
            return new AttemptResult<T>(route, outcome.Result, null, RouteAttemptOutcome.Succeeded, default, cancellation, started, elapsed, observers);
        }

        var error = outcome.Exception;
        RouteAttemptOutcome kind;
        FailureClassification classification = default;
        bool mayHaveBeenBilled = true; // once sent, an attempt that did not answer is charged unless it cannot have been billed
        if (error is BrokenCircuitException)
        {
            health.OnRejected(started);
            kind = RouteAttemptOutcome.Skipped;
            mayHaveBeenBilled = false;
        }
        else if (call.CallerToken.IsCancellationRequested || cancellation?.CancelledByRouter == true)
        {
            health.OnCancelled(started, elapsed, call.Streaming, waiting: true, byRouter: !call.CallerToken.IsCancellationRequested);
            kind = RouteAttemptOutcome.Cancelled;
            mayHaveBeenBilled = ProviderBilling.MayHaveBilled(error, default);
        }
        else
        {
            ErrorText.Observe(error, ErrorText.TextsOf(call.Messages, call.Options)); // before its text is repeated anywhere (logs, trace, RoutingInfo, AllRoutesFailedException)
            classification = Classify(error, route.ProviderFailures);
            mayHaveBeenBilled = ProviderBilling.MayHaveBilled(error, classification);
            var failure = classification.EffectiveKind;
            if (IsTheRequests(failure))
            {
                health.OnRequestError(started);
                if (health.IsMisconfigured && health.BringBack())
                {
                    // A probe refused for the request's own sake got past the key, the model and the permissions: the route works.
                    RouterLog.BackInService(_logger, route.Name);
                }
            }
            else
            {
                health.OnFailed(started, elapsed, call.Streaming, waiting: true);
            }

            kind = cancellation?.TimedOut == true ? RouteAttemptOutcome.TimedOut : RouteAttemptOutcome.Failed;
            var wait = classification.RetryAfter is { } asked && asked > TimeSpan.Zero ? asked
                : failure == FailureKind.RateLimited && _options.RateLimitCooldown > TimeSpan.Zero ? _options.RateLimitCooldown
                : TimeSpan.Zero;
            if (wait > TimeSpan.Zero)
            {
                var capped = wait < _options.MaxRetryAfter ? wait : _options.MaxRetryAfter;
                health.SetRetryAfter(_time.GetUtcNow() + capped);
                if (classification.RetryAfter is { } given && given > TimeSpan.Zero)
                {
                    RouterLog.RetryAfter(_logger, route.Name, capped.TotalMilliseconds);
                }
                else
                {
                    RouterLog.RateLimitCooldown(_logger, route.Name, classification.StatusCode, capped);
                }

                Signal(new RouteHealthSignal(route.Name, RouteHealthSignalKind.RetryAfter, _time.GetUtcNow() + capped));
            }

            if (failure == FailureKind.RouteMisconfigured)
            {
                TakeOut(route, classification.StatusCode);
            }

            MarkFailed(activity, error);
        }

        _telemetry.RecordAttempt(route, kind);
        if (!observers.IsEmpty)
        {
            // An answer the router stopped waiting for may still come (an SDK that ignores its token): its usage then settles the charge.
            var late = mayHaveBeenBilled && cancellation?.AbandonedAnswer is Task<ChatResponse> abandoned ? LateUsageAsync(abandoned) : null;
            await observers.ReportAsync(RouteAttemptReport.Unanswered(route, kind, mayHaveBeenBilled, call.Streaming, late, error, elapsed), _logger).ConfigureAwait(false);
        }

        return new AttemptResult<T>(route, default, error, kind, classification, cancellation, started, elapsed);
    }

    /// <summary>The usage of an answer the router abandoned, when the provider's client delivers it after all; null when it ends without one.</summary>
    private static async Task<UsageDetails?> LateUsageAsync(Task<ChatResponse> answer)
    {
        try
        {
            return (await answer.ConfigureAwait(false)).Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null; // it ended as the attempt did: no usage will come
        }
    }

    /// <summary>Tells the observers of hooks already admitted that the attempt was never sent (a later hook denied it, or one threw).</summary>
    private ValueTask NotSentAsync(AttemptObservers observers, ChatRoute route)
    {
        if (observers.IsEmpty)
        {
            return default;
        }

        var pending = observers.ReportAsync(new RouteAttemptReport(route, RouteAttemptOutcome.Skipped, producedOutput: false, null, null, null, TimeSpan.Zero), _logger);
        return pending.IsCompletedSuccessfully ? default : new ValueTask(pending.AsTask());
    }

    /// <summary>Decides after a failed attempt: rethrow (the caller cancelled, or a non-transient error) or fail over.</summary>
    private void OnAttemptFailed<T>(in AttemptResult<T> result, in RouterCall call)
    {
        call.CallerToken.ThrowIfCancellationRequested();
        var error = result.Error!;
        if (result.Outcome == RouteAttemptOutcome.NotAdmitted)
        {
            if (result.EndsCall)
            {
                ExceptionDispatchInfo.Capture(error).Throw();
            }

            RouterLog.NotAdmitted(_logger, result.Route.Name, error.GetType().Name);
            return;
        }

        if (result.Outcome is RouteAttemptOutcome.Skipped or RouteAttemptOutcome.Cancelled)
        {
            return;
        }

        var failure = result.Classification.EffectiveKind;
        if (!FailsOver(failure))
        {
            RouterLog.NonTransientFailure(_logger, result.Route.Name, result.Duration.TotalMilliseconds, error.GetType().Name, result.Classification.StatusCode, ErrorText.Of(error));
            RouterLog.FailureDetail(_logger, result.Route.Name, error);
            ExceptionDispatchInfo.Capture(error).Throw();
        }

        if (failure == FailureKind.ContentFiltered)
        {
            RouterLog.ContentPolicyFallback(_logger, result.Route.Name, result.Classification.StatusCode);
        }
        else if (failure == FailureKind.ContextLengthExceeded)
        {
            RouterLog.ContextWindowFallback(_logger, result.Route.Name, result.Route.Descriptor.ContextWindow);
        }

        RouterLog.FailingOver(_logger, result.Route.Name, result.Duration.TotalMilliseconds, error.GetType().Name, result.Classification.StatusCode, ErrorText.Of(error));
        RouterLog.FailureDetail(_logger, result.Route.Name, error);
        _telemetry.RecordFailover(result.Route, error);
    }

    /// <summary>Whether a failure of this kind tries the next route (docs/routing.md, "How failures are classified").</summary>
    private bool FailsOver(FailureKind failure) => failure switch
    {
        FailureKind.Transient or FailureKind.RateLimited or FailureKind.RouteMisconfigured => true,
        FailureKind.ContextLengthExceeded or FailureKind.UnsupportedRequest => true,
        FailureKind.ContentFiltered => _options.ContentPolicyFallback == ContentPolicyFallback.FailOver || _options.FailoverOnNonTransientErrors,
        _ => _options.FailoverOnNonTransientErrors,
    };

    /// <summary>Whether a failure is the request's, not the route's: it counts as a request error, never against the route's health or circuit.</summary>
    private static bool IsTheRequests(FailureKind failure) =>
        failure is FailureKind.ContextLengthExceeded or FailureKind.ContentFiltered or FailureKind.UnsupportedRequest or FailureKind.InvalidRequest;

    /// <summary>Whether a failure counts toward the route's circuit breaker: the route's passing faults (a misconfiguration takes the route out instead).</summary>
    private static bool CountsForBreaker(FailureKind failure) => failure is FailureKind.Transient or FailureKind.RateLimited;

    /// <summary>Takes a misconfigured route out of service, with one Error line per take-out (a failed probe keeps it out quietly).</summary>
    private void TakeOut(ChatRoute route, int? status)
    {
        var interval = _options.MisconfiguredRouteProbeInterval;
        var until = interval > TimeSpan.Zero ? _time.GetUtcNow() + interval : DateTimeOffset.MaxValue;
        if (route.Health.IsMisconfigured)
        {
            // A probe failed (its claim already pushed the next probe away), or a call that started before the take-out failed too.
            RouterLog.StillMisconfigured(_logger, route.Name, status);
            return;
        }

        if (route.Health.TakeOut(status ?? 0, until))
        {
            RouterLog.RouteMisconfigured(_logger, route.Name, status, interval > TimeSpan.Zero ? $"a probe in {interval} answers" : "an operator restores it");
        }
    }

    /// <summary>
    /// With <see cref="ContentPolicyFallback.FailOver"/>: whether an attempt's answer is the content filter's refusal (a non-streaming answer
    /// whose finish reason is <c>ContentFilter</c>; a stream whose first useful update is that finish with no content). A refused stream is
    /// closed here and its circuit judgement ended as neither success nor failure.
    /// </summary>
    private static async ValueTask<Exception?> IsRefusalAsync<T>(ChatRoute route, T? result)
    {
        switch (result)
        {
            case ChatResponse { FinishReason: var finish } when finish == ChatFinishReason.ContentFilter:
                return Refused(route);
            case StreamStart start when start.First.FinishReason == ChatFinishReason.ContentFilter && string.IsNullOrEmpty(start.First.Text):
                start.EndJudgement(new OperationCanceledException());
                try
                {
                    await start.Enumerator.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The refused stream is thrown away; closing it concerns nobody.
                }

                return Refused(route);
            default:
                return null;
        }

        static InvalidResponseException Refused(ChatRoute route) =>
            new(route.Name, "its content filter refused to answer (finish reason content_filter)", new ProviderError(null, Code: "content_filter"));
    }

    /// <summary>
    /// Runs the attempt through the route's circuit breaker. A stream stays inside the breaker until it ends (<see cref="StreamJudgement"/>);
    /// the attempt returns as soon as it has opened. A cancellation is neither success nor failure (<see cref="NeutralOutcomeException"/>).
    /// </summary>
    private static async ValueTask<Outcome<T>> ExecuteInBreakerAsync<T>(ChatRoute route, AttemptState<T> state, CancellationToken token)
    {
        var context = ResilienceContextPool.Shared.Get(token);
        if (state.Judgement is not { } judgement)
        {
            try
            {
                return await ExecuteNeutrallyAsync(route.Pipeline, context, state).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        // A stream: the breaker's execution (and its pooled context) lives on until the stream ends; the attempt returns once it opened.
        var execution = route.Pipeline.ExecuteOutcomeAsync(ExecuteStreamAttempt, context, state);
        if (execution.IsCompleted)
        {
            // Never opened: rejected by the breaker, or the stream failed at once.
            try
            {
                return Convert<T>(StreamJudgement.Read(execution.ConfigureAwait(false).GetAwaiter()));
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
                judgement.Return();
            }
        }

        await judgement.Watch(execution, context).ConfigureAwait(false);
        if (judgement.Start is { } start)
        {
            return Outcome.FromResult((T)(object)start);
        }

        try
        {
            return Convert<T>(judgement.Failure);
        }
        finally
        {
            judgement.Return();
        }
    }

    private static Outcome<T> Convert<T>(Outcome<object> outcome) =>
        outcome.Exception is { } error ? Outcome.FromException<T>(error) : Outcome.FromResult((T)outcome.Result!);

    /// <summary>A streaming attempt inside the breaker: opens the stream, then waits for its judgement (<see cref="StreamJudgement.End"/>).</summary>
    private static ValueTask<Outcome<object>> ExecuteStreamAttempt<T>(ResilienceContext context, AttemptState<T> state)
    {
        ValueTask<T> open;
        try
        {
            open = state.Func(state.Route, state.Messages, state.Options, state.Cancellation, context.CancellationToken);
        }
        catch (Exception e)
        {
            return new ValueTask<Outcome<object>>(Failed<object, T>(e, state));
        }

        return open.IsCompletedSuccessfully ? state.Judgement!.Open((StreamStart)(object)open.Result!) : AwaitOpenAsync(open, state);

        static async ValueTask<Outcome<object>> AwaitOpenAsync(ValueTask<T> open, AttemptState<T> state)
        {
            T result;
            try
            {
                result = await open.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return Failed<object, T>(e, state);
            }

            return await state.Judgement!.Open((StreamStart)(object)result!).ConfigureAwait(false);
        }
    }

    private static async ValueTask<Outcome<T>> ExecuteNeutrallyAsync<T>(ResiliencePipeline pipeline, ResilienceContext context, AttemptState<T> state)
    {
        try
        {
            return await pipeline.ExecuteOutcomeAsync(ExecuteAttemptAsync, context, state).ConfigureAwait(false);
        }
        catch (NeutralOutcomeException neutral)
        {
            return Outcome.FromException<T>(neutral.InnerException!);
        }
    }

    private static async ValueTask<Outcome<T>> ExecuteAttemptAsync<T>(ResilienceContext context, AttemptState<T> state)
    {
        try
        {
            var result = await state.Func(state.Route, state.Messages, state.Options, state.Cancellation, context.CancellationToken).ConfigureAwait(false);
            return Outcome.FromResult(result);
        }
        catch (Exception e)
        {
            return Failed<T, T>(e, state);
        }
    }

    /// <summary>
    /// The outcome of an attempt that threw before answering. Once the attempt ended, whatever the SDK then did (threw a cancellation, an
    /// I/O error from a closed connection, ended its stream quietly, returned nothing) is the end's consequence: our timeout is a
    /// transient failure worth failing over (and counting against the circuit), a cancellation is neither success nor failure.
    /// A cancellation the provider's client raised on its own (its own timeout; neither the caller's nor the router's) is a failure.
    /// </summary>
    private static Outcome<TOutcome> Failed<TOutcome, T>(Exception error, in AttemptState<T> state) =>
        Outcome.FromException<TOutcome>(
            state.Cancellation is { Ended: true } ended ? ended.Explain(error, state.Route.Name, state.Streaming)
            : error is OperationCanceledException && state.Cancellation?.CallerToken.IsCancellationRequested != true
                ? new TimeoutException($"Route '{state.Route.Name}' gave up: its client cancelled the attempt on its own (its own timeout).", error)
                : error);

    /// <summary>
    /// Gives the provider the caller's options minus the router's entries (hints, call context), the route's own model id when the caller
    /// named another, and the output limit an admission hook asked for (a budget's reservation: the provider can never bill more output
    /// than the budget holds).
    /// At most one copy; none when nothing changes.
    /// </summary>
    private static ChatOptions? PrepareOptions(ChatOptions? options, ChatRoute route, bool stripEntries, int? reservedMaxOutput)
    {
        if (reservedMaxOutput is { } reserved && options?.MaxOutputTokens is { } asked && asked < reserved)
        {
            reservedMaxOutput = asked; // a hook may lower the caller's output limit, never raise it
        }

        bool changeLimit = reservedMaxOutput is not null && options?.MaxOutputTokens != reservedMaxOutput;
        if (options is null)
        {
            return changeLimit ? new ChatOptions { MaxOutputTokens = reservedMaxOutput } : null;
        }

        bool changeModel = options.ModelId is not null && !string.Equals(options.ModelId, route.Descriptor.ModelId, StringComparison.Ordinal);
        if (!changeModel && !stripEntries && !changeLimit)
        {
            return options;
        }

        var copy = stripEntries ? ProviderOptions.CopyWithoutRouterEntries(options) : options.Clone();
        if (changeModel)
        {
            copy.ModelId = route.Descriptor.ModelId;
        }

        if (changeLimit)
        {
            copy.MaxOutputTokens = reservedMaxOutput;
        }

        return copy;
    }

    private static RouteAttempt[] Append(List<RouteAttempt>? earlier, RouteAttempt last)
    {
        if (earlier is null)
        {
            return [last];
        }

        earlier.Add(last);
        return [.. earlier];
    }

    private readonly record struct AttemptState<T>(
        AttemptFunc<T> Func, ChatRoute Route, IEnumerable<ChatMessage> Messages, ChatOptions? Options, AttemptCancellation? Cancellation, bool Streaming, StreamJudgement? Judgement);
}
