using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;

namespace InferenceRouter;

/// <summary>
/// One <see cref="IChatClient"/> over many routes: per call, a policy orders the candidate routes, and the router tries them in turn,
/// failing over on transient errors, honouring Retry-After, breaking circuits, timing out and optionally hedging.
/// </summary>
/// <remarks>
/// Thread-safe; create one per application (DI registers it as a singleton). Every response carries a <see cref="RoutingInfo"/>
/// (<see cref="RoutingInfoExtensions.GetRoutingInfo(ChatResponse)"/>). <see cref="GetService"/> finds the router, a route by name
/// (<c>GetService(typeof(ChatRoute), "name")</c>) and its <see cref="RouteHealth"/>. Disposing the router disposes the routes' clients.
/// </remarks>
public sealed partial class RouterChatClient : IChatClient, IRoutePreview
{
    private const int MaxPooledSelections = 64;

    private readonly ChatRoute[] _routes;
    private readonly FrozenDictionary<string, ChatRoute> _routesByName;
    private readonly FrozenDictionary<string, IRoutingPolicy> _policies;
    private readonly IRoutingPolicy _defaultPolicy;
    private readonly RouterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RouterTelemetry _telemetry;
    private readonly ConcurrentQueue<RouteSelection> _selections = new();
    private readonly RequestedRouteFilter _requestedRoute;
    private readonly LocalOnlyFilter _localOnly = new();
    private readonly HealthFilter _health = new();
    private readonly FailureClassifier _classifier;
    private IRouteAttemptHook[] _hooks; // replaced whole (never changed in place) when a layer registers one
    private readonly ChatClientMetadata _metadata = new("inference-router");
    private int _pooledSelections;
    private int _disposed;
    private long _offlineUntilTicks;

    /// <summary>Creates a router over <paramref name="routes"/>.</summary>
    /// <param name="routes">The routes, in priority order. Each belongs to this router from now on.</param>
    /// <param name="options">How to route; validated here. Defaults to <see cref="RouterOptions"/>' defaults.</param>
    /// <param name="policies">Policies beyond the built-in ones (<see cref="RoutingPolicies"/>), selectable by name; a name may replace a built-in one.</param>
    /// <param name="loggerFactory">Logging; none by default.</param>
    /// <param name="meterFactory">Metrics; a private <see cref="Meter"/> by default.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> by default.</param>
    /// <param name="attemptHooks">Rules asked before every attempt of every call (quotas, admission rules), before the call's own (<see cref="CallContext.AttemptHooks"/>).</param>
    /// <exception cref="ArgumentException">No routes, duplicate route names, an unknown default policy, or invalid options.</exception>
    public RouterChatClient(
        IEnumerable<ChatRoute> routes,
        RouterOptions? options = null,
        IEnumerable<IRoutingPolicy>? policies = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        TimeProvider? timeProvider = null,
        IEnumerable<IRouteAttemptHook>? attemptHooks = null)
    {
        ArgumentNullException.ThrowIfNull(routes);
        _options = options ?? new RouterOptions();
        OptionsValidation.ThrowIfInvalid(_options.GetValidationErrors(), nameof(options), "Invalid router options:");
        _routes = [.. routes];
        if (_routes.Length == 0)
        {
            throw new ArgumentException("The router needs at least one route: add one with AddRoute, or under InferenceRouter:Routes in configuration.", nameof(routes));
        }

        var byName = new Dictionary<string, ChatRoute>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in _routes)
        {
            ArgumentNullException.ThrowIfNull(route, nameof(routes));
            if (!byName.TryAdd(route.Name, route))
            {
                throw new ArgumentException($"Two routes are named '{route.Name}'; route names must be unique (case-insensitive).", nameof(routes));
            }
        }

        _routesByName = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<RouterChatClient>() ?? NullLogger.Instance;

        // The default classifier reads HTTP-date Retry-After against the router's clock.
        _classifier = ReferenceEquals(_options.FailureClassifier, FailureClassifier.Default) && !ReferenceEquals(_time, TimeProvider.System)
            ? new FailureClassifier(_time)
            : _options.FailureClassifier;
        _policies = BuildPolicies(policies, _options);
        _defaultPolicy = _policies.TryGetValue(_options.DefaultPolicy, out var defaultPolicy)
            ? defaultPolicy
            : throw new ArgumentException($"DefaultPolicy '{_options.DefaultPolicy}' is not a known policy. Known policies: {string.Join(", ", _policies.Keys.Order())}.", nameof(options));
        _requestedRoute = new RequestedRouteFilter(_routes, _routesByName);
        _hooks = [.. attemptHooks ?? []];
        if (Array.IndexOf(_hooks, null) >= 0)
        {
            throw new ArgumentException("An attempt hook is null.", nameof(attemptHooks));
        }

        foreach (var route in _routes)
        {
            var health = new RouteHealth(route.Name, _time, _options.LatencySmoothing, _options.LatencyDecayTime, _options.LatencyProbeInterval);
            route.Attach(health, BuildPipeline(route.Name, health, route.ProviderFailures), _time);
        }

        if (Array.Exists(_routes, route => route.Quota is not null))
        {
            // Quotas first: a full route is skipped before a budget reserves anything for it. Routes without one cost nothing more.
            _hooks = [QuotaAttemptHook.Instance, .. _hooks];
        }

        _telemetry = new RouterTelemetry(meterFactory, _routes);
    }

    /// <summary>Gets the routes, in registration order.</summary>
    public IReadOnlyList<ChatRoute> Routes => _routes;

    /// <summary>Gets the names of the policies calls can select (built-in and registered).</summary>
    public IReadOnlyCollection<string> PolicyNames => _policies.Keys;

    /// <summary>Gets the options the router runs with.</summary>
    public RouterOptions Options => _options;

    /// <summary>
    /// Gets a value indicating whether the app looks offline: in a recent call every remote route tried failed to connect. Until
    /// <see cref="RouterOptions.OfflineInterval"/> has passed (or a remote route answers), local routes go first.
    /// </summary>
    public bool IsOffline
    {
        get
        {
            long until = Volatile.Read(ref _offlineUntilTicks);
            return until != 0 && _time.GetUtcNow().UtcTicks < until;
        }
    }

    /// <summary>Gets the route named <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">The route's name.</param>
    /// <returns>The route.</returns>
    /// <exception cref="KeyNotFoundException">No route has that name.</exception>
    public ChatRoute GetRoute(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _routesByName.TryGetValue(name, out var route)
            ? route
            : throw new KeyNotFoundException($"No route is named '{name}'. Routes: {string.Join(", ", _routes.Select(r => r.Name))}.");
    }

    /// <summary>Drains a route: from now on no call is sent to it (in flight ones finish), whatever the policy, until <see cref="RestoreRoute"/>.</summary>
    /// <param name="name">The route's name.</param>
    /// <remarks>For maintenance, a provider incident, or moving traffic away; configuration can start a route drained (<c>Drained: true</c>).</remarks>
    /// <exception cref="KeyNotFoundException">No route has that name.</exception>
    public void DrainRoute(string name)
    {
        var route = GetRoute(name);
        if (route.Health.SetDrained(true))
        {
            RouterLog.RouteDrained(_logger, route.Name);
            Signal(new RouteHealthSignal(route.Name, RouteHealthSignalKind.Drained));
        }
    }

    /// <summary>
    /// Raised when this router learns something about a route that other routers should honour: a Retry-After, an opened circuit, a
    /// drain or a restore (not for signals applied with <see cref="ApplyHealthSignal"/>, so sharing never echoes).
    /// </summary>
    /// <remarks>Raised on the thread that learned it (a call's, or the operator's); handlers must be quick and must not throw.</remarks>
    public event Action<RouteHealthSignal>? HealthSignaled;

    private void Signal(RouteHealthSignal signal)
    {
        try
        {
            HealthSignaled?.Invoke(signal);
        }
        catch (Exception e)
        {
            // Sharing health is best effort: a failing handler never fails a call or an operator's drain.
            RouterLog.HealthSignalFailed(_logger, signal.Route, e.GetType().Name, e);
        }
    }

    /// <summary>Honours a signal learned elsewhere: waits out a Retry-After or an open circuit elsewhere (the route is skipped until then), drains or restores.</summary>
    /// <param name="signal">The signal; one naming a route this router does not have is ignored (instances may differ).</param>
    /// <returns>Whether it changed anything.</returns>
    public bool ApplyHealthSignal(RouteHealthSignal signal)
    {
        if (signal.Route is null || !_routesByName.TryGetValue(signal.Route, out var route))
        {
            return false;
        }

        switch (signal.Kind)
        {
            case RouteHealthSignalKind.RetryAfter or RouteHealthSignalKind.CircuitOpened when signal.Until is { } until && until > _time.GetUtcNow():
                // Capped as a provider's own Retry-After is: a bad or hostile signal cannot park a route for long.
                var cap = _time.GetUtcNow() + _options.MaxRetryAfter;
                route.Health.SetRetryAfter(until < cap ? until : cap);
                return true;
            case RouteHealthSignalKind.Drained:
                return route.Health.SetDrained(true);
            case RouteHealthSignalKind.Restored:
                return route.Health.SetDrained(false);
            default:
                return false;
        }
    }

    /// <summary>
    /// Restores a drained route, or one out of service as misconfigured (<see cref="RouteCircuitState.Misconfigured"/>, e.g. once its key
    /// or model is fixed): it takes calls again.
    /// </summary>
    /// <param name="name">The route's name.</param>
    /// <exception cref="KeyNotFoundException">No route has that name.</exception>
    public void RestoreRoute(string name)
    {
        var route = GetRoute(name);
        bool wasMisconfigured = route.Health.BringBack();
        if (route.Health.SetDrained(false))
        {
            RouterLog.RouteRestored(_logger, route.Name);
            Signal(new RouteHealthSignal(route.Name, RouteHealthSignalKind.Restored));
        }
        else if (wasMisconfigured)
        {
            RouterLog.RouteRestored(_logger, route.Name);
        }
    }

    /// <summary>Copies every route's health statistics.</summary>
    /// <returns>One snapshot per route, in registration order.</returns>
    public IReadOnlyList<RouteHealthSnapshot> GetHealth() => [.. _routes.Select(r => r.Health.GetSnapshot())];

    /// <summary>Explains, without calling any provider, which routes a request would go to, in which order, and why.</summary>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options (hints, model id, tools…).</param>
    /// <param name="streaming">Whether to explain a streaming call.</param>
    /// <returns>The candidates in failover order with every policy's verdicts, then the excluded routes.</returns>
    public RoutingExplanation Explain(IEnumerable<ChatMessage> messages, ChatOptions? options = null, bool streaming = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return ExplainCore(messages, options, CallContext.Capture(options), streaming);
    }

    private RoutingExplanation ExplainCore(IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, bool streaming)
    {
        var selection = Select(messages, options, context, streaming, explain: true, out var policy);
        try
        {
            var verdicts = selection.Verdicts!;
            var explained = new List<RouteExplanation>(_routes.Length);
            for (int k = 0; k < selection.OrderedCount; k++)
            {
                var route = selection.GetOrdered(k);
                int index = Array.IndexOf(_routes, route);
                explained.Add(new RouteExplanation(route.Name, k + 1, selection.GetScore(index), null, [.. verdicts.Where(v => v.Route == route.Name)]));
            }

            for (int i = 0; i < _routes.Length; i++)
            {
                if (selection.IsExcluded(i))
                {
                    var name = _routes[i].Name;
                    explained.Add(new RouteExplanation(name, null, selection.GetScore(i), selection.GetExclusionReason(i), [.. verdicts.Where(v => v.Route == name)]));
                }
            }

            return new RoutingExplanation(policy.Name, explained);
        }
        finally
        {
            ReturnSelection(selection);
        }
    }

    /// <inheritdoc/>
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateRequest(messages, options);
        return GetResponseCoreAsync(messages, options, CallContext.Capture(options), cancellationToken);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateRequest(messages, options);

        // Captured now, not when the stream is first read: a scope that ends before enumeration still steers the call.
        return new RoutedStream(this, messages, options, CallContext.Capture(options), cancellationToken);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is null)
        {
            if (serviceType.IsInstanceOfType(this))
            {
                return this;
            }

            if (serviceType == typeof(ChatClientMetadata))
            {
                return _metadata;
            }

            if (serviceType == typeof(IReadOnlyList<ChatRoute>))
            {
                return Routes;
            }

            if (serviceType == typeof(IReadOnlyList<RouteHealthSnapshot>))
            {
                return GetHealth();
            }
        }
        else if (serviceKey is string name && _routesByName.TryGetValue(name, out var route))
        {
            if (serviceType == typeof(ChatRoute))
            {
                return route;
            }

            if (serviceType == typeof(RouteHealth))
            {
                return route.Health;
            }
        }

        return null;
    }

    /// <summary>Disposes the routes' clients and the router's meter; later calls do nothing (DI may dispose the router through the pipeline too).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var route in _routes)
        {
            route.Client.Dispose();
        }

        _telemetry.Dispose();
    }

    /// <summary>
    /// Refuses a request no provider can answer, once and up front, naming what is wrong: it never reaches a provider and never counts
    /// against a route's health.
    /// </summary>
    private static void ValidateRequest(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        bool empty = messages is IReadOnlyCollection<ChatMessage> collection ? collection.Count == 0 : !messages.Any();
        if (empty)
        {
            throw new ArgumentException("The request has no messages; send at least one (e.g. the user's question).", nameof(messages));
        }

        if (options?.MaxOutputTokens is <= 0 and var max)
        {
            throw new ArgumentOutOfRangeException(nameof(options), max, $"ChatOptions.MaxOutputTokens is {max}; give a positive number of tokens, or leave it unset.");
        }
    }

    private static FrozenDictionary<string, IRoutingPolicy> BuildPolicies(IEnumerable<IRoutingPolicy>? custom, RouterOptions options)
    {
        var policies = new Dictionary<string, IRoutingPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in RoutingPolicies.BuiltInNames)
        {
            policies[name] = RoutingPolicies.Create(name, options.LatencyExplorationRate);
        }

        foreach (var policy in custom ?? [])
        {
            ArgumentNullException.ThrowIfNull(policy, nameof(custom));
            policies[policy.Name] = policy;
        }

        return policies.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    private ResiliencePipeline BuildPipeline(string route, RouteHealth health, IProviderFailureClassifier? provider)
    {
        var breaker = _options.CircuitBreaker;
        if (!breaker.Enabled)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder { Name = route, TimeProvider = _time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = breaker.SamplingDuration,
                BreakDuration = breaker.BreakDuration,
                ShouldHandle = args => args.Outcome.Exception switch
                {
                    null => new ValueTask<bool>(false),

                    // Polly counts every outcome it is not told to handle as a success; a cancellation is neither, so it is not judged at all.
                    OperationCanceledException cancelled => throw new NeutralOutcomeException(cancelled),
                    var e => new ValueTask<bool>(CountsForBreaker(Classify(e, provider).EffectiveKind)),
                },
                OnOpened = args =>
                {
                    health.SetCircuitState(args.IsManual ? RouteCircuitState.Isolated : RouteCircuitState.Open, args.BreakDuration);
                    RouterLog.CircuitOpened(_logger, route, args.BreakDuration);
                    if (!args.IsManual && args.BreakDuration < TimeSpan.MaxValue)
                    {
                        Signal(new RouteHealthSignal(route, RouteHealthSignalKind.CircuitOpened, _time.GetUtcNow() + args.BreakDuration));
                    }
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    health.SetCircuitState(RouteCircuitState.HalfOpen);
                    RouterLog.CircuitHalfOpened(_logger, route);
                    return default;
                },
                OnClosed = _ =>
                {
                    health.SetCircuitState(RouteCircuitState.Closed);
                    RouterLog.CircuitClosed(_logger, route);
                    return default;
                },
            })
            .Build();
    }

    private RouteSelection Select(IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, bool streaming, bool explain, out IRoutingPolicy policy, bool question = false)
    {
        var hints = context.Hints;
        policy = hints.Policy is null ? _defaultPolicy : ResolvePolicy(hints.Policy);

        if (!_selections.TryDequeue(out var selection))
        {
            selection = new RouteSelection(_routes);
        }
        else
        {
            Interlocked.Decrement(ref _pooledSelections);
        }

        try
        {
            selection.Reset(messages, options, hints, streaming, explain, question);

            // Router-owned invariants run before any policy, so no policy (built-in or custom) can re-admit what they exclude:
            // a call kept on the device never sees a remote route, and a route asked to wait or with an open circuit is not tried.
            _requestedRoute.Apply(selection);
            _localOnly.Apply(selection);
            _health.Apply(selection);
            policy.Apply(selection);
            selection.PlacedOffline = IsOffline;
            selection.Order(selection.PlacedOffline ? LocalPlacement.First : _options.LocalRoutesLast ? LocalPlacement.Last : LocalPlacement.ByScore);
            return selection;
        }
        catch
        {
            ReturnSelection(selection);
            throw;
        }
    }

    /// <summary>Classifies a failure; a classifier that throws is logged and its failure counts as not transient, so nothing escapes an attempt's bookkeeping.</summary>
    private FailureClassification Classify(Exception error, IProviderFailureClassifier? provider)
    {
        try
        {
            return _classifier.Classify(error, provider);
        }
        catch (Exception e)
        {
            RouterLog.ClassifierFailed(_logger, _classifier.GetType().Name, error.GetType().Name, e);
            return default;
        }
    }

    /// <inheritdoc/>
    /// <remarks>The router's own selection (filters, health, the policy, offline placement); admission hooks (budgets) are not asked.</remarks>
    public ValueTask<RoutePreview> PreviewAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, bool streaming, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = CallContext.Capture(options);
        // A question, not a call: the same selection, but no policy state changes (no probe claimed, no rotation advanced).
        var selection = Select(messages, options, context, streaming, explain: false, out _, question: true);
        try
        {
            return new(new RoutePreview(selection.OrderedCount > 0 ? selection.GetOrdered(0) : null, context));
        }
        finally
        {
            ReturnSelection(selection);
        }
    }

    /// <summary>Whether the winner is a fallback the caller did not ask for: not the first candidate, or local only because the app looked offline.</summary>
    private static bool IsFallback(ChatRoute winner, ChatRoute? firstChoice, bool offlinePlacement) =>
        !ReferenceEquals(winner, firstChoice) || (offlinePlacement && winner.Descriptor.IsLocal);

    private IRoutingPolicy ResolvePolicy(string name) =>
        _policies.TryGetValue(name, out var policy)
            ? policy
            : throw new InvalidOperationException($"The call asks for routing policy '{name}', which this router does not know. Known policies: {string.Join(", ", _policies.Keys.Order())}.");

    private void ReturnSelection(RouteSelection selection)
    {
        selection.Clear();
        if (Interlocked.Increment(ref _pooledSelections) <= MaxPooledSelections)
        {
            _selections.Enqueue(selection);
        }
        else
        {
            Interlocked.Decrement(ref _pooledSelections);
        }
    }

    private Exception AllFailed(IReadOnlyList<RouteAttempt>? attempts, in RouterCall call)
    {
        // When admission hooks (a budget) turned away every candidate that was not skipped for health, the first denial is the answer;
        // when quotas turned them all away, one exception names every full route.
        Exception? denial = null;
        List<RouteQuotaExceededException>? full = null;
        foreach (var attempt in attempts ?? [])
        {
            if (attempt.Outcome == RouteAttemptOutcome.NotAdmitted)
            {
                denial ??= attempt.Error;
                if (attempt.Error is RouteQuotaExceededException quota)
                {
                    (full ??= []).Add(quota);
                }
            }
            else if (attempt.Outcome != RouteAttemptOutcome.Skipped)
            {
                denial = null;
                break;
            }
        }

        if (denial is not null)
        {
            return full is not null && ReferenceEquals(full[0], denial) ? RouteQuotaExceededException.Combine(full) : denial;
        }

        // Policies give short reasons on the hot path; for the exception, explain the call again to get the detailed ones.
        var exclusions = new List<RouteExclusion>();
        foreach (var route in ExplainCore(call.Messages, call.Options, call.Context, call.Streaming).Routes)
        {
            if (route.ExclusionReason is { } reason)
            {
                exclusions.Add(new RouteExclusion(route.Route, reason));
            }
        }

        attempts ??= [];
        NoteConnectivity(attempts, winner: null);
        RouterLog.AllRoutesFailed(_logger, attempts.Count, exclusions.Count);
        return new AllRoutesFailedException(attempts, exclusions);
    }

    /// <summary>
    /// After a call: a remote route that answered means online; remote attempts that all failed to connect mean offline for a while.
    /// Cheap on the common path (one successful attempt while online).
    /// </summary>
    private void NoteConnectivity(IReadOnlyList<RouteAttempt> attempts, ChatRoute? winner)
    {
        if (winner is not null && !winner.Descriptor.IsLocal)
        {
            if (Volatile.Read(ref _offlineUntilTicks) != 0)
            {
                Volatile.Write(ref _offlineUntilTicks, 0);
                RouterLog.BackOnline(_logger, winner.Name);
            }

            return;
        }

        if (_options.OfflineInterval <= TimeSpan.Zero || attempts.Count == (winner is null ? 0 : 1))
        {
            return;
        }

        int connectionFailures = 0;
        foreach (var attempt in attempts)
        {
            if (!_routesByName.TryGetValue(attempt.Route, out var route) || route.Descriptor.IsLocal ||
                attempt.Outcome is RouteAttemptOutcome.Skipped or RouteAttemptOutcome.NotAdmitted or RouteAttemptOutcome.Cancelled)
            {
                continue;
            }

            if (attempt.Error is null || !Classify(attempt.Error, route.ProviderFailures).IsConnectionFailure)
            {
                return; // A remote route answered something: the network is there.
            }

            connectionFailures++;
        }

        if (connectionFailures > 0)
        {
            var until = _time.GetUtcNow() + _options.OfflineInterval;
            if (Interlocked.Exchange(ref _offlineUntilTicks, until.UtcTicks) == 0)
            {
                RouterLog.Offline(_logger, connectionFailures, _options.OfflineInterval);
            }
        }
    }

    private static void MarkFailed(Activity? activity, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error, ErrorText.Of(error)).SetTag("error.type", error.GetType().FullName);
    }
}
