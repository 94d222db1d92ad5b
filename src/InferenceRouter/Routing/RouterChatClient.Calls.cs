using Polly;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

public sealed partial class RouterChatClient
{
    private async Task DiscardResponse(AttemptResult<ChatResponse> result)
    {
        result.Cancellation?.Return();
        if (!result.Observers.IsEmpty)
        {
            // A hedging loser that answered was billed by its provider: its observers (a budget) charge it.
            await result.Observers.ReportAsync(Answered(result, RouteAttemptOutcome.Cancelled), _logger).ConfigureAwait(false);
        }
    }

    /// <summary>The report of a non-streaming attempt that answered.</summary>
    private static RouteAttemptReport Answered(in AttemptResult<ChatResponse> result, RouteAttemptOutcome outcome)
    {
        var response = result.Value!;
        return new RouteAttemptReport(result.Route, outcome, producedOutput: true, response.Usage, response.Usage?.OutputTokenCount is null ? response.Text : null, null, result.Duration);
    }

    private async Task<ChatResponse> GetResponseCoreAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, CancellationToken cancellationToken)
    {
        var selection = Select(messages, options, context, streaming: false, explain: false, out var policy);
        var firstChoice = selection.OrderedCount > 0 ? selection.GetOrdered(0) : null;
        bool keptOnDevice = selection.Hints.LocalOnly;  // read now: the selection goes back to the pool before the answer is wrapped
        bool offlinePlacement = selection.PlacedOffline && !keptOnDevice;
        var skipped = selection.Skipped; // the selection goes back to the pool; the list goes with the call
        using var activity = RouterTelemetry.StartCall(streaming: false);
        var call = new RouterCall(messages, options, context, ProviderOptions.HasRouterEntries(options), Streaming: false, cancellationToken, activity, policy.Name, selection, HooksFor(context));
        Winner<ChatResponse> winner;
        try
        {
            winner = _options.HedgingDelay is null
                ? await RunSequentialAsync(selection, s_getResponse, call, AttemptTimeouts.For(_options, streaming: false)).ConfigureAwait(false)
                : await RunHedgedAsync(selection, s_getResponse, call, AttemptTimeouts.For(_options, streaming: false), DiscardResponse).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            MarkFailed(activity, e);
            throw;
        }
        finally
        {
            ReturnSelection(selection);
        }

        var result = winner.Result;
        result.Cancellation?.Return();
        NoteConnectivity(winner.Attempts, result.Route);
        var response = result.Value!;
        var info = new RoutingInfo(result.Route, response.ModelId, winner.Attempts, winner.Hedged, timeToFirstToken: null, IsFallback(result.Route, firstChoice, offlinePlacement), skipped, keptOnDevice);
        (response.AdditionalProperties ??= [])[RoutingInfoExtensions.RoutingInfoKey] = info;
        var cost = result.Observers.IsEmpty ? null : await result.Observers.ReportAsync(Answered(result, RouteAttemptOutcome.Succeeded), _logger).ConfigureAwait(false);
        if ((cost ?? (result.Route.Price is { } price ? Price(price, response.Usage, messages, options, response.Usage?.OutputTokenCount is null ? response.Text : null) : null)) is { } known)
        {
            // Priced by an observer (a budget), else by the route's known price: the caller learns what the call cost.
            response.AdditionalProperties[CallCostExtensions.CostKey] = known;
        }

        _telemetry.RecordDuration(result.Route, response.ModelId, result.Duration, null);
        activity?.SetTag("inference_router.route", info.Route).SetTag("gen_ai.response.model", info.ModelId).SetTag("inference_router.attempts", winner.Attempts.Length);
        return response;
    }

    private async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseCoreAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var selection = Select(messages, options, context, streaming: true, explain: false, out var policy);
        var firstChoice = selection.OrderedCount > 0 ? selection.GetOrdered(0) : null;
        bool keptOnDevice = selection.Hints.LocalOnly;  // read now: the selection goes back to the pool before the answer is wrapped
        bool offlinePlacement = selection.PlacedOffline && !keptOnDevice;
        var skipped = selection.Skipped;

        // The call's span covers the whole stream, but must not become the consumer's current activity between updates.
        var parent = Activity.Current;
        var activity = RouterTelemetry.StartCall(streaming: true);
        Activity.Current = parent;

        var call = new RouterCall(messages, options, context, ProviderOptions.HasRouterEntries(options), Streaming: true, cancellationToken, activity, policy.Name, selection, HooksFor(context));
        var timeouts = AttemptTimeouts.For(_options, streaming: true);
        Winner<StreamStart> winner;
        try
        {
            winner = _options.HedgingDelay is null
                ? await RunSequentialAsync(selection, s_openStream, call, timeouts).ConfigureAwait(false)
                : await RunHedgedAsync(selection, s_openStream, call, timeouts, DiscardStream).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            MarkFailed(activity, e);
            activity?.Dispose();
            throw;
        }
        finally
        {
            ReturnSelection(selection);
        }

        var result = winner.Result;
        var route = result.Route;
        var start = result.Value!;
        NoteConnectivity(winner.Attempts, route);
        var cancellation = result.Cancellation; // handed over: from here only AttemptTimeout bounds the provider's time
        var enumerator = start.Enumerator;
        bool completed = false;
        Exception? error = null;
        string? responseId = start.First.ResponseId;
        string? modelId = start.First.ModelId;
        var observers = result.Observers;
        var usage = observers.IsEmpty ? null : new StreamUsage();
        bool reported = false;
        bool ended = false; // the provider said the answer is complete
        int delivered = 0;
        var output = default(StreamOutput);
        long waited = 0; // time spent waiting for the provider after the first update (the caller's reading time left out)
        try
        {
            if (start.Prelude is { } prelude)
            {
                foreach (var update in prelude)
                {
                    responseId ??= update.ResponseId;
                    modelId ??= update.ModelId;
                    usage?.Observe(update);
                    ended |= route.IsStreamEnd(update);
                    delivered++; // what the caller got is what a failure's message counts
                    yield return update;
                }
            }

            usage?.Observe(start.First);
            ended |= route.IsStreamEnd(start.First);
            delivered++;
            yield return start.First;

            while (true)
            {
                ChatResponseUpdate update;
                long asked = _time.GetTimestamp();
                try
                {
                    bool more;
                    if (cancellation is null)
                    {
                        more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        // Whatever the SDK does with its token, the wait ends when the attempt does; an update already there is read at once.
                        cancellation.ThrowIfEnded();
                        var next = enumerator.MoveNextAsync();
                        more = next.IsCompleted ? next.GetAwaiter().GetResult() : await cancellation.WaitAsync(next, enumerator, providerTime: true).ConfigureAwait(false);
                    }

                    waited += _time.GetTimestamp() - asked;
                    if (!more)
                    {
                        // Complete only when the provider said so: a stream that stops after a cancellation, or stops short, is not an answer.
                        if (!ended)
                        {
                            cancellation?.ThrowIfEnded();
                            if (route.RequiresStreamEnd)
                            {
                                throw new InvalidResponseException(route.Name, $"its stream ended after {delivered} update(s) without saying the answer was complete (no finish reason): it was cut off");
                            }
                        }

                        break;
                    }

                    update = enumerator.Current;

                    // Asked of every update without content, also after the finish reason: SDK adapters repeat the finish reason on the
                    // updates after it, and an error event there still means the answer is not whole.
                    if (!ProviderAnswer.HasContent(update) && route.TryReadErrorEvent(update.RawRepresentation, out var providerError))
                    {
                        throw new InvalidResponseException(route.Name, $"its stream carried an error event after {delivered} update(s)", providerError, retryAfter: null, ErrorText.TextsOf(messages, options));
                    }
                }
                catch (Exception e)
                {
                    // Once the attempt ended (the caller cancelled, the provider's time ran out), whatever the SDK threw is that end.
                    error = cancellation is { Ended: true } ? cancellation.Explain(e, route.Name, streaming: true) : e;
                    if (!ReferenceEquals(error, e))
                    {
                        throw error;
                    }

                    throw;
                }

                responseId ??= update.ResponseId;
                modelId ??= update.ModelId;
                usage?.Observe(update);
                output.Observe(update);
                ended |= route.IsStreamEnd(update);
                delivered++;
                yield return update;
            }

            completed = true;
            var info = new RoutingInfo(route, modelId, winner.Attempts, winner.Hedged, result.Duration, IsFallback(route, firstChoice, offlinePlacement), skipped, keptOnDevice);
            activity?.SetTag("inference_router.route", info.Route).SetTag("gen_ai.response.model", info.ModelId).SetTag("inference_router.attempts", winner.Attempts.Length);
            var last = new ChatResponseUpdate
            {
                ResponseId = responseId,
                ModelId = modelId,
                AdditionalProperties = new() { [RoutingInfoExtensions.RoutingInfoKey] = info },
            };
            CallCost? cost = null;
            if (usage is not null)
            {
                reported = true;
                cost = await observers.ReportAsync(StreamEnded(route, RouteAttemptOutcome.Succeeded, usage, incomplete: false, null, result), _logger).ConfigureAwait(false);
            }

            if ((cost ?? (route.Price is { } price ? Price(price, usage?.Usage ?? output.UsageOrEstimate, messages, options, outputText: null) : null)) is { } known)
            {
                last.AdditionalProperties[CallCostExtensions.CostKey] = known;
            }

            yield return last;
        }
        finally
        {
            try
            {
                // An SDK operation the router stopped waiting for is still outstanding: its enumerator is closed when it finishes.
                await (cancellation?.DisposeWhenIdleAsync(enumerator) ?? enumerator.DisposeAsync()).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The stream is over either way (answered, failed or abandoned): a provider stream that fails to close must not skip
                // the bookkeeping below (the observers' report, the breaker's judgement, health), nor fail an answer already delivered.
                RouterLog.StreamDisposeFailed(_logger, route.Name, e.GetType().Name);
            }

            var outcome = completed ? RouteAttemptOutcome.Succeeded
                : error is null || cancellationToken.IsCancellationRequested ? RouteAttemptOutcome.Cancelled
                : cancellation?.TimedOut == true ? RouteAttemptOutcome.TimedOut : RouteAttemptOutcome.Failed;
            if (usage is not null && !reported)
            {
                // Failed or abandoned part-way: the provider bills what it generated, also what never reached the caller (the observers,
                // a budget, charge what came and an allowance for the rest), unless it had said the answer was complete.
                await observers.ReportAsync(StreamEnded(route, outcome, usage, incomplete: !ended, error, result), _logger).ConfigureAwait(false);
            }

            var elapsed = _time.GetElapsedTime(result.StartedTimestamp);
            var generation = TimeSpan.FromSeconds((double)waited / _time.TimestampFrequency);
            if (error is not null)
            {
                // The caller gets the error after the updates it received; what happened to the attempt rides on it (no last update will),
                // classified as a failure before the first token is (a timeout, a cut stream: transient; an error event: what it says).
                var failed = outcome is RouteAttemptOutcome.Failed or RouteAttemptOutcome.TimedOut ? Classify(AsJudged(error, route.Name), route.ProviderFailures) : default;
                error.Data[RoutingInfoExtensions.RoutingInfoKey] = new RoutingInfo(
                    route, modelId, Replace(winner.Attempts, new RouteAttempt(route.Name, outcome, elapsed, error, failed.StatusCode, outcome is RouteAttemptOutcome.Failed or RouteAttemptOutcome.TimedOut ? failed.EffectiveKind : null)),
                    winner.Hedged, result.Duration, IsFallback(route, firstChoice, offlinePlacement), skipped, keptOnDevice);
            }

            start.EndJudgement(completed ? null : outcome is RouteAttemptOutcome.Failed or RouteAttemptOutcome.TimedOut ? AsJudged(error!, route.Name) : new OperationCanceledException());
            if (completed)
            {
                route.Health.OnStreamCompleted(result.StartedTimestamp, result.Duration + generation, generation, output.Tokens);
            }
            else if (error is not null && !cancellationToken.IsCancellationRequested)
            {
                route.Health.OnFailed(result.StartedTimestamp, result.Duration + generation, streaming: true, waiting: false);
                ErrorText.Observe(error, ErrorText.TextsOf(messages, options));
                RouterLog.StreamFailed(_logger, route.Name, error.GetType().Name, ErrorText.Of(error));
                RouterLog.FailureDetail(_logger, route.Name, error);
                MarkFailed(activity, error);
            }
            else
            {
                // The caller cancelled or stopped reading part-way.
                route.Health.OnCancelled(result.StartedTimestamp, elapsed, streaming: true, waiting: false, byRouter: false);
            }

            _telemetry.RecordDuration(route, modelId, elapsed, completed ? null : error);
            activity?.Dispose();
            cancellation?.Return();
        }
    }

    /// <summary>The attempts with the last one (the stream that answered first) replaced by how its stream ended.</summary>
    private static RouteAttempt[] Replace(RouteAttempt[] attempts, RouteAttempt last)
    {
        var copy = (RouteAttempt[])attempts.Clone();
        copy[^1] = last;
        return copy;
    }

    /// <summary>
    /// A stream's failure as the circuit breaker must see it: a cancellation the provider's client raised on its own (its own timeout,
    /// not the caller, not the router) is a failure too, so the breaker judges what health counts.
    /// </summary>
    private static Exception AsJudged(Exception error, string route) =>
        error is OperationCanceledException ? new TimeoutException($"Route '{route}' gave up on its stream: its client cancelled it (its own timeout).", error) : error;

    /// <summary>Prices a call no observer priced; the prompt is counted only when the provider reported no input tokens.</summary>
    private static CallCost Price(RoutePrice price, UsageDetails? usage, IEnumerable<ChatMessage> messages, ChatOptions? options, string? outputText)
    {
        long promptTokens = usage?.InputTokenCount is null ? PromptTokens.Count(price.TokenCounter, messages, options) : 0;
        return price.Price(usage, promptTokens, outputText, PriceCatalog.Default.Currency);
    }

    private RouteAttemptReport StreamEnded(ChatRoute route, RouteAttemptOutcome outcome, StreamUsage usage, bool incomplete, Exception? error, in AttemptResult<StreamStart> result) =>
        RouteAttemptReport.StreamEnded(route, outcome, usage.SawOutput, incomplete, usage.Usage, usage.TextToCount, error, _time.GetElapsedTime(result.StartedTimestamp));

    /// <summary>The router's own hooks, then the call's.</summary>
    /// <summary>
    /// Registers a hook asked before every attempt of every call from now on (after those given to the constructor), unless one equal to
    /// it is registered already. A layer built over the router (<c>UseBudgets</c>) registers its rule this way, so the rule holds for
    /// every call the router serves — also a call whose context middleware in between dropped, and a call made to the router directly.
    /// </summary>
    internal void AddAttemptHook(IRouteAttemptHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        IRouteAttemptHook[] current, updated;
        do
        {
            current = Volatile.Read(ref _hooks);
            if (Array.IndexOf(current, hook) >= 0)
            {
                return;
            }

            updated = [.. current, hook];
        }
        while (!ReferenceEquals(Interlocked.CompareExchange(ref _hooks, updated, current), current));
    }

    private IRouteAttemptHook[] HooksFor(CallContext context)
    {
        var callHooks = context.HookArray;
        var hooks = Volatile.Read(ref _hooks);
        return callHooks.Length == 0 ? hooks : hooks.Length == 0 ? callHooks : [.. hooks, .. callHooks];
    }

    private async Task DiscardStream(AttemptResult<StreamStart> result)
    {
        try
        {
            result.Value!.EndJudgement(new OperationCanceledException());
            await result.Value.Enumerator.DisposeAsync().ConfigureAwait(false);
        }
        catch
        {
            // The losing stream is being thrown away; its errors concern nobody.
        }
        finally
        {
            result.Route.Health.OnCancelled(result.StartedTimestamp, result.Duration, streaming: true, waiting: false, byRouter: true);
            result.Cancellation?.Return();
        }

        if (!result.Observers.IsEmpty)
        {
            var usage = new StreamUsage();
            bool ended = false;
            if (result.Value!.Prelude is { } prelude)
            {
                foreach (var update in prelude)
                {
                    usage.Observe(update);
                    ended |= result.Route.IsStreamEnd(update);
                }
            }

            usage.Observe(result.Value.First);
            ended |= result.Route.IsStreamEnd(result.Value.First);

            // Closed after its first update: its provider generated on until it saw the stream go, and bills that too.
            await result.Observers.ReportAsync(StreamEnded(result.Route, RouteAttemptOutcome.Cancelled, usage, incomplete: !ended, null, result), _logger).ConfigureAwait(false);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
