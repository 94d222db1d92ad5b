using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Enforces budgets and attaches each call's <see cref="CallCost"/>: before a call it reserves the worst-case cost in every limit that
/// applies, afterwards it settles the real cost (from usage, else counted) and releases the rest; on failure it releases everything.
/// </summary>
/// <remarks>
/// <para>Over a <see cref="RouterChatClient"/> (anywhere below in the pipeline) the budget registers an attempt hook with the router
/// when it is built: the router asks it before each attempt of every call it serves, so it reserves with the prices of the route tried,
/// <see cref="BudgetEnforcement.Downgrade"/> limits skip routes that do not fit and a cheaper or local route answers. Because the rule
/// lives in the router, it also holds for calls whose options middleware in between rebuilt (they are charged to the tenant the router
/// then sees) and for calls made to the router directly.
/// Over any other client it reserves once with the prices of the request's model (<see cref="ChatOptions.ModelId"/>, else the client's
/// default model), and a downgrade limit rejects: there is nothing to downgrade to.</para>
/// <para>Streams settle when they end, fail or are disposed part-way (partial output is charged: providers bill for it).
/// Tenant and user come from the call's <see cref="CallContext"/> (per-call hints, or the <see cref="RoutingScope"/> when the call was
/// made). Thread-safe.</para>
/// </remarks>
public sealed class BudgetChatClient : DelegatingChatClient
{
    private readonly RouterChatClient? _router;
    private readonly string? _defaultModelId;
    private readonly bool _keepsCallsOnDevice;
    private readonly bool _limitsRawRequests;

    /// <summary>Creates the budget client.</summary>
    /// <param name="innerClient">The client to call (a router or a provider's client).</param>
    /// <param name="budget">The budget to enforce.</param>
    /// <exception cref="InvalidOperationException">
    /// Over a router, a route has no price (neither its own nor the catalog's) and <see cref="BudgetOptions.UnknownModelPricing"/> is
    /// <see cref="UnknownModelPricing.Reject"/>: the message names each such route, its model and the ways to price it.
    /// </exception>
    public BudgetChatClient(IChatClient innerClient, BudgetManager budget)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(budget);
        Budget = budget;
        _router = innerClient.GetService(typeof(RouterChatClient)) as RouterChatClient;

        // Refused now, when the pipeline is built (at start), rather than on every call that would reach the route; before the
        // router holds this budget's hook.
        if (_router is not null && budget.DescribeUnpricedRoutes(_router.Routes) is { } unpriced)
        {
            throw new InvalidOperationException(unpriced);
        }

        _router?.AddAttemptHook(new BudgetAttemptHook(budget));
        _defaultModelId = innerClient.GetService<ChatClientMetadata>()?.DefaultModelId;
        _keepsCallsOnDevice = EgressGate.KeepsCallsOnDevice(innerClient);
        _limitsRawRequests = innerClient.GetService<IRawRequestOutputLimiter>() is not null;
    }

    /// <summary>Gets the budget enforced.</summary>
    public BudgetManager Budget { get; }

    /// <inheritdoc/>
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = CallContext.Capture(options);
        if (context.KeepOnDevice && !_keepsCallsOnDevice)
        {
            throw EgressGate.NotKeptOnDevice(nameof(BudgetChatClient));
        }

        return _router is null
            ? GetBudgetedResponseAsync(messages, options, context, cancellationToken)
            : base.GetResponseAsync(messages, context.PassDown(options), cancellationToken);
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);

        // Captured now, not when the stream is first read: a scope that ends before enumeration still names the tenant.
        var context = CallContext.Capture(options);
        if (context.KeepOnDevice && !_keepsCallsOnDevice)
        {
            throw EgressGate.NotKeptOnDevice(nameof(BudgetChatClient));
        }

        return _router is null
            ? GetBudgetedStreamAsync(messages, options, context, cancellationToken)
            : base.GetStreamingResponseAsync(messages, context.PassDown(options), cancellationToken);
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(BudgetManager) ? Budget : base.GetService(serviceType, serviceKey);
    }

    private async Task<ChatResponse> GetBudgetedResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, CancellationToken cancellationToken)
    {
        var attempt = await ReserveAsync(messages, options, context, cancellationToken).ConfigureAwait(false);
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, WithOutputLimit(options, attempt.MaxOutputTokens), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await attempt.ReleaseAsync().ConfigureAwait(false);
            throw;
        }

        var cost = await attempt.SettleAsync(response.Usage, response.Usage?.OutputTokenCount is null ? response.Text : null).ConfigureAwait(false);
        (response.AdditionalProperties ??= [])[CallCostExtensions.CostKey] = cost;
        return response;
    }

    private async IAsyncEnumerable<ChatResponseUpdate> GetBudgetedStreamAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var attempt = await ReserveAsync(messages, options, context, cancellationToken).ConfigureAwait(false);
        var usage = new StreamUsage();
        IAsyncEnumerator<ChatResponseUpdate>? enumerator = null;
        try
        {
            enumerator = base.GetStreamingResponseAsync(messages, WithOutputLimit(options, attempt.MaxOutputTokens), cancellationToken).GetAsyncEnumerator(cancellationToken);
            string? responseId = null;
            while (await enumerator.MoveNextAsync().ConfigureAwait(false))
            {
                var update = enumerator.Current;
                responseId ??= update.ResponseId;
                usage.Observe(update);
                yield return update;
            }

            if (await attempt.CloseAsync(usage).ConfigureAwait(false) is { } cost)
            {
                yield return new ChatResponseUpdate { ResponseId = responseId, AdditionalProperties = new() { [CallCostExtensions.CostKey] = cost } };
            }
        }
        finally
        {
            try
            {
                if (enumerator is not null)
                {
                    await enumerator.DisposeAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                // Failed or abandoned part-way (or closing the stream failed): charge the partial output, or release when nothing came.
                await attempt.CloseAsync(usage).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Returns options whose output limit is within the one reserved, so the provider can never bill more output than the budget holds;
    /// a smaller limit the caller asked for is kept.
    /// </summary>
    internal static ChatOptions WithOutputLimit(ChatOptions? options, int maxOutputTokens)
    {
        if (options?.MaxOutputTokens is { } asked && asked <= maxOutputTokens)
        {
            return options;
        }

        var copy = options?.Clone() ?? new ChatOptions();
        copy.MaxOutputTokens = maxOutputTokens;
        return copy;
    }

    private async ValueTask<BudgetAttempt> ReserveAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, CancellationToken cancellationToken)
    {
        var target = Budget.GetTarget(options?.ModelId ?? _defaultModelId);
        var media = default(PromptMedia);
        long promptTokenBound = PromptTokens.CountWithMedia(TokenCounters.UpperBound, messages, options, ref media);
        var attempt = await Budget.ReserveAsync(context.Tenant, context.User, target, promptTokenBound, media, _limitsRawRequests, messages, options, cancellationToken).ConfigureAwait(false);
        return attempt.Denial is { } denial ? throw denial : attempt;
    }
}
