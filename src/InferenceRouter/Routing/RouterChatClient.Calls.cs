using Polly;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

public sealed partial class RouterChatClient
{
    private static readonly Func<AttemptResult<ChatResponse>, Task> s_discardResponse = static async result =>
    {
        result.Cancellation?.Return();
        if (result.Budget is { } budget)
        {
            // A hedging loser that answered was billed by its provider: charge it.
            await SettleAsync(budget, result.Value!).ConfigureAwait(false);
        }
    };

    private async Task<ChatResponse> GetResponseCoreAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        var selection = Select(messages, options, streaming: false, explain: false, out var policy, out bool stripHints);
        var firstChoice = selection.OrderedCount > 0 ? selection.GetOrdered(0) : null;
        bool keptOnDevice = selection.Hints.LocalOnly;  // read now: the selection goes back to the pool before the answer is wrapped
        bool offlinePlacement = selection.PlacedOffline && !keptOnDevice;
        var skipped = selection.Skipped; // the selection goes back to the pool; the list goes with the call
        using var activity = RouterTelemetry.StartCall(streaming: false);
        var call = new CallContext(messages, options, stripHints, Streaming: false, cancellationToken, activity, policy.Name, selection, BudgetCall.For(this));
        Winner<ChatResponse> winner;
        try
        {
            winner = _options.HedgingDelay is null
                ? await RunSequentialAsync(selection, s_getResponse, call, _options.AttemptTimeout).ConfigureAwait(false)
                : await RunHedgedAsync(selection, s_getResponse, call, _options.AttemptTimeout, s_discardResponse).ConfigureAwait(false);
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
        if (result.Budget is { } budget)
        {
            response.AdditionalProperties[CallCostExtensions.CostKey] = await SettleAsync(budget, response).ConfigureAwait(false);
        }
        else if (result.Route.PriceTarget is { } priced)
        {
            // No budget, but a known price: the caller still learns what the call cost.
            response.AdditionalProperties[CallCostExtensions.CostKey] = Price(priced, response.Usage, messages, options, response.Usage?.OutputTokenCount is null ? response.Text : null);
        }

        _telemetry.RecordDuration(result.Route, response.ModelId, result.Duration, null);
        activity?.SetTag("inference_router.route", info.Route).SetTag("gen_ai.response.model", info.ModelId).SetTag("inference_router.attempts", winner.Attempts.Length);
        return response;
    }

    private async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseCoreAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var selection = Select(messages, options, streaming: true, explain: false, out var policy, out bool stripHints);
        var firstChoice = selection.OrderedCount > 0 ? selection.GetOrdered(0) : null;
        bool keptOnDevice = selection.Hints.LocalOnly;  // read now: the selection goes back to the pool before the answer is wrapped
        bool offlinePlacement = selection.PlacedOffline && !keptOnDevice;
        var skipped = selection.Skipped;

        // The call's span covers the whole stream, but must not become the consumer's current activity between updates.
        var parent = Activity.Current;
        var activity = RouterTelemetry.StartCall(streaming: true);
        Activity.Current = parent;

        var call = new CallContext(messages, options, stripHints, Streaming: true, cancellationToken, activity, policy.Name, selection, BudgetCall.For(this));
        var firstTimeout = _options.TimeToFirstTokenTimeout ?? _options.AttemptTimeout;
        Winner<StreamStart> winner;
        try
        {
            winner = _options.HedgingDelay is null
                ? await RunSequentialAsync(selection, s_openStream, call, firstTimeout).ConfigureAwait(false)
                : await RunHedgedAsync(selection, s_openStream, call, firstTimeout, DiscardStream).ConfigureAwait(false);
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
        var cancellation = result.Cancellation;
        if (_options.TimeToFirstTokenTimeout is not null && cancellation is not null)
        {
            // The rest of the stream gets what is left of the attempt timeout.
            cancellation.ResetTimeout(_options.AttemptTimeout is { } total ? Max(total - result.Duration, TimeSpan.FromMilliseconds(1)) : null);
        }

        var enumerator = start.Enumerator;
        bool completed = false;
        Exception? error = null;
        string? responseId = start.First.ResponseId;
        string? modelId = start.First.ModelId;
        var usage = result.Budget is null ? null : new StreamUsage();
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
                    yield return update;
                }
            }

            usage?.Observe(start.First);
            yield return start.First;

            while (true)
            {
                ChatResponseUpdate update;
                long asked = _time.GetTimestamp();
                try
                {
                    bool more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                    waited += _time.GetTimestamp() - asked;
                    if (!more)
                    {
                        break;
                    }

                    update = enumerator.Current;
                }
                catch (OperationCanceledException) when (cancellation?.TimedOut == true)
                {
                    error = new TimeoutException($"Route '{route.Name}' did not finish the stream within AttemptTimeout ({_options.AttemptTimeout}).");
                    throw error;
                }
                catch (Exception e)
                {
                    error = e;
                    throw;
                }

                responseId ??= update.ResponseId;
                modelId ??= update.ModelId;
                usage?.Observe(update);
                output.Observe(update);
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
            if (usage is not null && await usage.CloseAsync(result.Budget!).ConfigureAwait(false) is { } cost)
            {
                last.AdditionalProperties[CallCostExtensions.CostKey] = cost;
            }
            else if (usage is null && route.PriceTarget is { } priced)
            {
                last.AdditionalProperties[CallCostExtensions.CostKey] = Price(priced, output.UsageOrEstimate, messages, options, outputText: null);
            }

            yield return last;
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            if (usage is not null)
            {
                // Failed or abandoned part-way: charge what the provider produced (it bills for it), or release if nothing came.
                await usage.CloseAsync(result.Budget!).ConfigureAwait(false);
            }

            var elapsed = _time.GetElapsedTime(result.StartedTimestamp);
            var generation = TimeSpan.FromSeconds((double)waited / _time.TimestampFrequency);
            start.Judgement?.End(completed ? null : error is not null && !cancellationToken.IsCancellationRequested ? error : new OperationCanceledException());
            if (completed)
            {
                route.Health.OnStreamCompleted(result.StartedTimestamp, result.Duration + generation, generation, output.Tokens);
            }
            else if (error is not null && !cancellationToken.IsCancellationRequested)
            {
                route.Health.OnFailed(result.StartedTimestamp, result.Duration + generation, streaming: true, waiting: false);
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

    /// <summary>Prices a call no budget priced; the prompt is counted only when the provider reported no input tokens.</summary>
    private static CallCost Price(BudgetTarget target, UsageDetails? usage, IEnumerable<ChatMessage> messages, ChatOptions? options, string? outputText)
    {
        long promptTokens = usage?.InputTokenCount is null ? PromptTokens.Count(target.TokenCounter, messages, options) : 0;
        return target.Price(usage, promptTokens, outputText, PriceCatalog.Default.Currency);
    }

    private static ValueTask<CallCost?> SettleAsync(BudgetAttempt budget, ChatResponse response) =>
        budget.SettleAsync(response.Usage, response.Usage?.OutputTokenCount is null ? response.Text : null);

    private static async Task DiscardStream(AttemptResult<StreamStart> result)
    {
        try
        {
            result.Value!.Judgement?.End(new OperationCanceledException());
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

        if (result.Budget is { } budget)
        {
            var usage = new StreamUsage();
            if (result.Value!.Prelude is { } prelude)
            {
                foreach (var update in prelude)
                {
                    usage.Observe(update);
                }
            }

            usage.Observe(result.Value.First);
            await usage.CloseAsync(budget).ConfigureAwait(false);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
