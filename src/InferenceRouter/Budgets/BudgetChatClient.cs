using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Enforces budgets and attaches each call's <see cref="CallCost"/>: before a call it reserves the worst-case cost in every limit that
/// applies, afterwards it settles the real cost (from usage, else counted) and releases the rest. A call that fails once its request may
/// have left is charged an estimate (docs/budgets.md, "What a call that did not answer is charged"); only one that cannot have been billed is released.
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
    private readonly IProviderFailureClassifier? _providerFailures; // what the provider's errors mean: a refusal it does not bill is released
    private readonly IRawRequestOutputLimiter? _rawRequestLimiter;

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
        _providerFailures = innerClient.GetService<IProviderFailureClassifier>();
        _keepsCallsOnDevice = EgressGate.KeepsCallsOnDevice(innerClient);
        _rawRequestLimiter = innerClient.GetService<IRawRequestOutputLimiter>();
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
            : base.GetResponseAsync(messages, PassDown(options, context), cancellationToken);
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
            : base.GetStreamingResponseAsync(messages, PassDown(options, context), cancellationToken);
    }

    /// <summary>
    /// The options for the layer below, carrying the call's context (captured here, so a layer in between that works later still sees
    /// it). Directly over the router nothing is copied: the router captures the same context from the same options and scope, now.
    /// </summary>
    private ChatOptions? PassDown(ChatOptions? options, CallContext context) =>
        ReferenceEquals(InnerClient, _router) ? options : context.PassDown(options);

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(BudgetManager) ? Budget : base.GetService(serviceType, serviceKey);
    }

    private async Task<ChatResponse> GetBudgetedResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, CancellationToken cancellationToken)
    {
        var attempt = await ReserveAsync(messages, options, context, cancellationToken).ConfigureAwait(false);
        Task<ChatResponse> pending;
        try
        {
            pending = base.GetResponseAsync(messages, WithOutputLimit(options, attempt.MaxOutputTokens), cancellationToken);
        }
        catch
        {
            await attempt.ReleaseAsync().ConfigureAwait(false); // thrown before it returned its pending call: nothing was sent
            throw;
        }

        ChatResponse response;
        try
        {
            response = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Once sent, a call that did not answer (cancelled, timed out, reset) is charged what was reserved, unless it cannot have been billed.
            await attempt.EndUnansweredAsync(MayHaveBilled(e)).ConfigureAwait(false);
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
        bool sent = false;
        Exception? failure = null;
        try
        {
            enumerator = base.GetStreamingResponseAsync(messages, WithOutputLimit(options, attempt.MaxOutputTokens), cancellationToken).GetAsyncEnumerator(cancellationToken);
            sent = true; // from the first read on, the request may have left
            string? responseId = null;
            while (true)
            {
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception e)
                {
                    failure = e;
                    throw;
                }

                var update = enumerator.Current;
                responseId ??= update.ResponseId;
                usage.Observe(update);
                yield return update;
            }

            if (await attempt.CloseAsync(usage, complete: true, mayHaveBeenBilled: true).ConfigureAwait(false) is { } cost)
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
                // Failed or abandoned part-way (or closing the stream failed): its provider generated on until it saw the stream go, so what
                // came is charged with an allowance for the rest; released only when it cannot have been billed.
                await attempt.CloseAsync(usage, complete: false, mayHaveBeenBilled: sent && (failure is null || MayHaveBilled(failure))).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Whether the provider may bill a call that failed with <paramref name="error"/> (<see cref="ProviderBilling.MayHaveBilled"/>).</summary>
    private bool MayHaveBilled(Exception error) => ProviderBilling.MayHaveBilled(error, FailureClassifier.Default.Classify(error, _providerFailures));

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
        var attempt = await Budget.ReserveAsync(context.Tenant, context.User, target, promptTokenBound, media, _rawRequestLimiter, InnerClient, messages, options, cancellationToken).ConfigureAwait(false);
        return attempt.Denial is { } denial ? throw denial : attempt;
    }
}
