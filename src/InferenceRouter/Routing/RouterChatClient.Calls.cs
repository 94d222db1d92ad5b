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
        if ((cost ?? (result.Route.Price is { } price ? Price(price, result.Route.Catalog.Currency, response.Usage, messages, options, response.Usage?.OutputTokenCount is null ? response.Text : null) : null)) is { } known)
        {
            // Priced by an observer (a budget), else by the route's known price: the caller learns what the call cost.
            response.AdditionalProperties[CallCostExtensions.CostKey] = known;
        }

        _telemetry.RecordDuration(result.Route, response.ModelId, result.Duration, null);
        activity?.SetTag("inference_router.route", info.Route).SetTag("gen_ai.response.model", info.ModelId).SetTag("inference_router.attempts", winner.Attempts.Length);
        return response;
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
    private static CallCost Price(RoutePrice price, string currency, UsageDetails? usage, IEnumerable<ChatMessage> messages, ChatOptions? options, string? outputText)
    {
        long promptTokens = usage?.InputTokenCount is null ? PromptTokens.Count(price.TokenCounter, messages, options) : 0;
        return price.Price(usage, promptTokens, outputText, currency, PromptHasAudio(price, messages, options));
    }

    /// <summary>Prices a stream no observer priced: reported usage where given, else its updates with text as the output tokens.</summary>
    private static CallCost PriceStream(RoutePrice price, string currency, UsageDetails? usage, long outputTokens, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        long promptTokens = usage?.InputTokenCount is null ? PromptTokens.Count(price.TokenCounter, messages, options) : 0;
        return price.Price(usage, promptTokens, outputTokens, currency, PromptHasAudio(price, messages, options));
    }

    /// <summary>Whether the prompt may hold audio, asked only of a route that prices audio above text (the walk is skipped otherwise).</summary>
    private static bool PromptHasAudio(RoutePrice price, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        if (!price.ChargesAudio)
        {
            return false;
        }

        var media = default(PromptMedia);
        PromptTokens.CountWithMedia(TokenCounters.UpperBound, messages, options, ref media);
        return RoutePrice.MayHoldAudio(media);
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
