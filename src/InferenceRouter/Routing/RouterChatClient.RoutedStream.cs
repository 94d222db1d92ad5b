using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

public sealed partial class RouterChatClient
{
    /// <summary>
    /// One routed stream: on the first <see cref="MoveNextAsync"/> the routes are selected and tried until one stream opens; then the
    /// winner's updates are handed through, each checked (an error event fails the stream, a stream is complete only when the provider
    /// says so); then the router's last update (routing info, cost). Whatever way it ends (read to the end, failed, abandoned), the
    /// attempt's bookkeeping runs once: the observers' report, the breaker's judgement, health, telemetry.
    /// </summary>
    /// <remarks>
    /// Written out rather than as an async iterator because the middle phase is the hot path: an update the provider already had is
    /// handed over with no state machine and no value-task source, and only a wait that goes asynchronous pays for one (pooled). The
    /// call's context was captured when the stream was asked for, not when it is first read.
    /// </remarks>
    private sealed class RoutedStream : IAsyncEnumerable<ChatResponseUpdate>, IAsyncEnumerator<ChatResponseUpdate>
    {
        private readonly RouterChatClient _router;
        private readonly IEnumerable<ChatMessage> _messages;
        private readonly ChatOptions? _options;
        private readonly CallContext _context;
        private readonly CancellationToken _callToken;
        private CancellationToken _token;
        private CancellationTokenSource? _linked;
        private int _enumerated;

        private Phase _phase;
        private ChatResponseUpdate _current = null!;

        // Set when a stream opened.
        private Activity? _activity;
        private ChatRoute? _firstChoice;
        private bool _keptOnDevice;
        private bool _offlinePlacement;
        private List<RouteExclusion>? _skipped;
        private Winner<StreamStart> _winner;
        private ChatRoute _route = null!;
        private StreamStart _start = null!;
        private AttemptCancellation? _cancellation;
        private IAsyncEnumerator<ChatResponseUpdate> _enumerator = null!;
        private StreamUsage? _usage;
        private int _preludeIndex;

        // What the stream did so far.
        private StreamOutput _output;
        private StreamWaitClock _waited; // time spent waiting for the provider after the first update (the caller's reading time left out)
        private string? _responseId;
        private string? _modelId;
        private bool _ended; // the provider said the answer is complete
        private bool _completed;
        private bool _reported;
        private int _delivered; // what the caller got is what a failure's message counts
        private Exception? _error;

        public RoutedStream(RouterChatClient router, IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, CancellationToken cancellationToken)
        {
            _router = router;
            _messages = messages;
            _options = options;
            _context = context;
            _callToken = cancellationToken;
            _token = cancellationToken;
        }

        private enum Phase
        {
            NotStarted,
            Prelude,
            Reading,
            Last,
            Done,
        }

        public ChatResponseUpdate Current => _current;

        public IAsyncEnumerator<ChatResponseUpdate> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            // As an async iterator: the first enumeration is this object, a later one a new call with the same context.
            var stream = Interlocked.Exchange(ref _enumerated, 1) == 0 ? this : new RoutedStream(_router, _messages, _options, _context, _callToken) { _enumerated = 1 };
            if (cancellationToken.CanBeCanceled && cancellationToken != _callToken)
            {
                if (_callToken.CanBeCanceled)
                {
                    stream._linked = CancellationTokenSource.CreateLinkedTokenSource(_callToken, cancellationToken);
                    stream._token = stream._linked.Token;
                }
                else
                {
                    stream._token = cancellationToken;
                }
            }

            return stream;
        }

        public ValueTask<bool> MoveNextAsync()
        {
            if (_phase != Phase.Reading)
            {
                return MoveNextSlowAsync();
            }

            ValueTask<bool> next;
            long asked;
            try
            {
                _cancellation?.ThrowIfEnded();
                asked = _waited.Start(_router._time);
                next = _enumerator.MoveNextAsync();
                if (next.IsCompleted)
                {
                    // An update already there is read at once.
                    bool more = next.GetAwaiter().GetResult();
                    _waited.EndImmediate(_router._time, asked);
                    if (more)
                    {
                        Accept(_enumerator.Current);
                        return new ValueTask<bool>(true);
                    }

                    CheckComplete();
                    return LastAsync();
                }
            }
            catch (Exception e)
            {
                return FailAsync(e);
            }

            return ReadPendingAsync(next, asked);
        }

        public async ValueTask DisposeAsync()
        {
            if (_phase is not Phase.NotStarted and not Phase.Done)
            {
                await FinishAsync().ConfigureAwait(false); // abandoned: the caller stopped reading
            }

            _phase = Phase.Done;
            _linked?.Dispose();
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<bool> ReadPendingAsync(ValueTask<bool> next, long asked)
        {
            try
            {
                // Whatever the SDK does with its token, the wait ends when the attempt does.
                asked = _waited.StartPending(_router._time, asked);
                bool more = _cancellation is null
                    ? await next.ConfigureAwait(false)
                    : await _cancellation.WaitAsync(next, _enumerator, providerTime: true).ConfigureAwait(false);
                _waited.EndPending(_router._time, asked);
                if (more)
                {
                    Accept(_enumerator.Current);
                    return true;
                }

                CheckComplete();
            }
            catch (Exception e)
            {
                return await FailAsync(e).ConfigureAwait(false);
            }

            return await LastAsync().ConfigureAwait(false);
        }

        private async ValueTask<bool> MoveNextSlowAsync()
        {
            switch (_phase)
            {
                case Phase.NotStarted:
                    try
                    {
                        await OpenAsync().ConfigureAwait(false);
                    }
                    catch
                    {
                        _phase = Phase.Done; // as an iterator that threw: over
                        throw;
                    }

                    goto case Phase.Prelude;
                case Phase.Prelude:
                    try
                    {
                        if (_start.Prelude is { } prelude && _preludeIndex < prelude.Count)
                        {
                            return DeliverPrelude();
                        }

                        DeliverFirst();
                        return true;
                    }
                    catch (Exception e)
                    {
                        // Anything that throws once the stream opened (a provider's rule about its updates) ends it like a failure read from it.
                        return await FailAsync(e).ConfigureAwait(false);
                    }

                case Phase.Last:
                    await FinishAsync().ConfigureAwait(false);
                    return false;
                default:
                    return false;
            }
        }

        /// <summary>Selects the routes and tries them until one stream opens (its first useful update); throws when none does.</summary>
        private async ValueTask OpenAsync()
        {
            var router = _router;
            var selection = router.Select(_messages, _options, _context, streaming: true, explain: false, out var policy);
            _firstChoice = selection.OrderedCount > 0 ? selection.GetOrdered(0) : null;
            _keptOnDevice = selection.Hints.LocalOnly;  // read now: the selection goes back to the pool before the answer is wrapped
            _offlinePlacement = selection.PlacedOffline && !_keptOnDevice;
            _skipped = selection.Skipped;

            // The call's span covers the whole stream, but must not become the consumer's current activity between updates.
            var parent = Activity.Current;
            var activity = RouterTelemetry.StartCall(streaming: true);
            Activity.Current = parent;

            var call = new RouterCall(_messages, _options, _context, ProviderOptions.HasRouterEntries(_options), Streaming: true, _token, activity, policy.Name, selection, router.HooksFor(_context));
            var timeouts = AttemptTimeouts.For(router._options, streaming: true);
            try
            {
                _winner = router._options.HedgingDelay is null
                    ? await router.RunSequentialAsync(selection, s_openStream, call, timeouts).ConfigureAwait(false)
                    : await router.RunHedgedAsync(selection, s_openStream, call, timeouts, router.DiscardStream).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                MarkFailed(activity, e);
                activity?.Dispose();
                _phase = Phase.Done;
                throw;
            }
            finally
            {
                router.ReturnSelection(selection);
            }

            _activity = activity;
            var result = _winner.Result;
            _route = result.Route;
            _start = result.Value!;
            router.NoteConnectivity(_winner.Attempts, _route);
            _cancellation = result.Cancellation; // handed over: from here only AttemptTimeout bounds the provider's time
            _enumerator = _start.Enumerator;
            _responseId = _start.First.ResponseId;
            _modelId = _start.First.ModelId;
            _usage = result.Observers.IsEmpty ? null : new StreamUsage();
            _phase = Phase.Prelude; // opened: from here, however the stream ends, its bookkeeping runs (FinishAsync)
        }

        private bool DeliverPrelude()
        {
            Deliver(_start.Prelude![_preludeIndex++]);
            return true;
        }

        private void DeliverFirst()
        {
            _output.Observe(_start.First);
            Deliver(_start.First);
            _phase = Phase.Reading;
        }

        /// <summary>Takes one update from the provider, or throws when it is an error event.</summary>
        private void Accept(ChatResponseUpdate update)
        {
            // Asked of every update without content, also after the finish reason: SDK adapters repeat the finish reason on the
            // updates after it, and an error event there still means the answer is not whole.
            if (!_output.Observe(update) && _route.TryReadErrorEvent(update.RawRepresentation, out var providerError))
            {
                throw new InvalidResponseException(_route.Name, $"its stream carried an error event after {_delivered} update(s)", providerError, retryAfter: null, ErrorText.TextsOf(_messages, _options));
            }

            Deliver(update);
        }

        /// <summary>Hands an update to the caller, noting what it says about the answer (ids, usage, whether it is complete).</summary>
        private void Deliver(ChatResponseUpdate update)
        {
            _responseId ??= update.ResponseId;
            _modelId ??= update.ModelId;
            _usage?.Observe(update);
            _ended |= _route.IsStreamEnd(update);
            _delivered++;
            _current = update;
        }

        /// <summary>The provider's stream ended: complete only when the provider said so (a stream that stops after a cancellation, or stops short, is not an answer).</summary>
        private void CheckComplete()
        {
            if (!_ended)
            {
                _cancellation?.ThrowIfEnded();
                if (_route.RequiresStreamEnd)
                {
                    throw new InvalidResponseException(_route.Name, $"its stream ended after {_delivered} update(s) without saying the answer was complete (no finish reason): it was cut off");
                }
            }
        }

        /// <summary>The answer is complete: the router's last update carries the routing info and the cost.</summary>
        private async ValueTask<bool> LastAsync()
        {
            var router = _router;
            var result = _winner.Result;
            _completed = true;
            _phase = Phase.Last;
            try
            {
                var info = new RoutingInfo(_route, _modelId, _winner.Attempts, _winner.Hedged, result.Duration, IsFallback(_route, _firstChoice, _offlinePlacement), _skipped, _keptOnDevice);
                _activity?.SetTag("inference_router.route", info.Route).SetTag("gen_ai.response.model", info.ModelId).SetTag("inference_router.attempts", _winner.Attempts.Length);
                var last = new ChatResponseUpdate
                {
                    ResponseId = _responseId,
                    ModelId = _modelId,
                    AdditionalProperties = new() { [RoutingInfoExtensions.RoutingInfoKey] = info },
                };
                CallCost? cost = null;
                if (_usage is not null)
                {
                    _reported = true;
                    cost = await result.Observers.ReportAsync(router.StreamEnded(_route, RouteAttemptOutcome.Succeeded, _usage, incomplete: false, null, result), router._logger).ConfigureAwait(false);
                }

                if ((cost ?? (_route.Price is { } price ? PriceStream(price, _route.Catalog.Currency, _usage?.Usage ?? _output.Usage, _output.Tokens, _messages, _options) : null)) is { } known)
                {
                    last.AdditionalProperties[CallCostExtensions.CostKey] = known;
                }

                _current = last;
                return true;
            }
            catch
            {
                await FinishAsync().ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>Reading the provider failed: once the attempt ended (the caller cancelled, the provider's time ran out), whatever the SDK threw is that end.</summary>
        private async ValueTask<bool> FailAsync(Exception e)
        {
            _error = _cancellation is { Ended: true } ? _cancellation.Explain(e, _route.Name, streaming: true) : e;
            await FinishAsync().ConfigureAwait(false);
            if (ReferenceEquals(_error, e))
            {
                ExceptionDispatchInfo.Capture(e).Throw();
            }

            throw _error;
        }

        /// <summary>The stream is over (answered, failed or abandoned): closes the provider's stream and does the attempt's bookkeeping, once.</summary>
        private async ValueTask FinishAsync()
        {
            if (_phase == Phase.Done)
            {
                return;
            }

            _phase = Phase.Done;
            var router = _router;
            var route = _route;
            var result = _winner.Result;
            var cancellation = _cancellation;
            try
            {
                // An SDK operation the router stopped waiting for is still outstanding: its enumerator is closed when it finishes.
                await (cancellation?.DisposeWhenIdleAsync(_enumerator) ?? _enumerator.DisposeAsync()).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The stream is over either way: a provider stream that fails to close must not skip the bookkeeping below (the
                // observers' report, the breaker's judgement, health), nor fail an answer already delivered.
                RouterLog.StreamDisposeFailed(router._logger, route.Name, e.GetType().Name);
            }

            var error = _error;
            var outcome = _completed ? RouteAttemptOutcome.Succeeded
                : error is null || _token.IsCancellationRequested ? RouteAttemptOutcome.Cancelled
                : cancellation?.TimedOut == true ? RouteAttemptOutcome.TimedOut : RouteAttemptOutcome.Failed;
            if (_usage is not null && !_reported)
            {
                // Failed or abandoned part-way: the provider bills what it generated, also what never reached the caller (the observers,
                // a budget, charge what came and an allowance for the rest), unless it had said the answer was complete.
                await result.Observers.ReportAsync(router.StreamEnded(route, outcome, _usage, incomplete: !_ended, error, result), router._logger).ConfigureAwait(false);
            }

            long now = router._time.GetTimestamp();
            var elapsed = router._time.GetElapsedTime(result.StartedTimestamp, now);
            var generation = _waited.Elapsed(router._time);
            if (error is not null)
            {
                // The caller gets the error after the updates it received; what happened to the attempt rides on it (no last update will),
                // classified as a failure before the first token is (a timeout, a cut stream: transient; an error event: what it says).
                bool failedHere = outcome is RouteAttemptOutcome.Failed or RouteAttemptOutcome.TimedOut;
                var failed = failedHere ? router.Classify(AsJudged(error, route.Name), route.ProviderFailures) : default;
                error.Data[RoutingInfoExtensions.RoutingInfoKey] = new RoutingInfo(
                    route, _modelId, Replace(_winner.Attempts, new RouteAttempt(route.Name, outcome, elapsed, error, failed.StatusCode, failedHere ? failed.EffectiveKind : null)),
                    _winner.Hedged, result.Duration, IsFallback(route, _firstChoice, _offlinePlacement), _skipped, _keptOnDevice);
            }

            _start.EndJudgement(_completed ? null : outcome is RouteAttemptOutcome.Failed or RouteAttemptOutcome.TimedOut ? AsJudged(error!, route.Name) : new OperationCanceledException());
            if (_completed)
            {
                route.Health.OnStreamCompleted(result.StartedTimestamp, result.Duration + generation, generation, _output.Tokens, now);
            }
            else if (error is not null && !_token.IsCancellationRequested)
            {
                route.Health.OnFailed(result.StartedTimestamp, result.Duration + generation, streaming: true, waiting: false);
                ErrorText.Observe(error, ErrorText.TextsOf(_messages, _options));
                RouterLog.StreamFailed(router._logger, route.Name, error.GetType().Name, ErrorText.Of(error));
                RouterLog.FailureDetail(router._logger, route.Name, error);
                MarkFailed(_activity, error);
            }
            else
            {
                // The caller cancelled or stopped reading part-way.
                route.Health.OnCancelled(result.StartedTimestamp, elapsed, streaming: true, waiting: false, byRouter: false);
            }

            router._telemetry.RecordDuration(route, _modelId, elapsed, _completed ? null : error);
            _activity?.Dispose();
            cancellation?.Return();
        }
    }
}
