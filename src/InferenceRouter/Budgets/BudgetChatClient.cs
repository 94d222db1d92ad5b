using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Enforces budgets and attaches each call's <see cref="CallCost"/>: before a call it reserves the worst-case cost in every limit that
/// applies, afterwards it settles the real cost (from usage, else counted) and releases the rest; on failure it releases everything.
/// </summary>
/// <remarks>
/// <para>Over a <see cref="RouterChatClient"/> (anywhere below in the pipeline) the router reserves per route attempt with that route's
/// prices, so <see cref="BudgetEnforcement.Downgrade"/> limits skip routes that do not fit and a cheaper or local route answers.
/// Over any other client it reserves once with the prices of the request's model (<see cref="ChatOptions.ModelId"/>, else the client's
/// default model), and a downgrade limit rejects: there is nothing to downgrade to.</para>
/// <para>Streams settle when they end, fail or are disposed part-way (partial output is charged: providers bill for it).
/// Tenant and user come from <see cref="RoutingHints"/> (per call, or <see cref="RoutingScope"/>). Thread-safe.</para>
/// </remarks>
public sealed class BudgetChatClient : DelegatingChatClient
{
    private readonly bool _routed;
    private readonly string? _defaultModelId;

    /// <summary>Creates the budget client.</summary>
    /// <param name="innerClient">The client to call (a router or a provider's client).</param>
    /// <param name="budget">The budget to enforce.</param>
    public BudgetChatClient(IChatClient innerClient, BudgetManager budget)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(budget);
        Budget = budget;
        _routed = innerClient.GetService(typeof(RouterChatClient)) is not null;
        _defaultModelId = innerClient.GetService<ChatClientMetadata>()?.DefaultModelId;
    }

    /// <summary>Gets the budget enforced.</summary>
    public BudgetManager Budget { get; }

    /// <inheritdoc/>
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var hints = Hints(options);
        return _routed
            ? base.GetResponseAsync(messages, CarryBudget(options, hints), cancellationToken)
            : GetBudgetedResponseAsync(messages, options, hints, cancellationToken);
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var hints = Hints(options);
        return _routed
            ? base.GetStreamingResponseAsync(messages, CarryBudget(options, hints), cancellationToken)
            : GetBudgetedStreamAsync(messages, options, hints, cancellationToken);
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(BudgetManager) ? Budget : base.GetService(serviceType, serviceKey);
    }

    private async Task<ChatResponse> GetBudgetedResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, RoutingHints hints, CancellationToken cancellationToken)
    {
        var attempt = await ReserveAsync(messages, options, hints, cancellationToken).ConfigureAwait(false);
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
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
        IEnumerable<ChatMessage> messages, ChatOptions? options, RoutingHints hints, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var attempt = await ReserveAsync(messages, options, hints, cancellationToken).ConfigureAwait(false);
        var usage = new StreamUsage();
        IAsyncEnumerator<ChatResponseUpdate>? enumerator = null;
        try
        {
            enumerator = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            string? responseId = null;
            while (await enumerator.MoveNextAsync().ConfigureAwait(false))
            {
                var update = enumerator.Current;
                responseId ??= update.ResponseId;
                usage.Observe(update);
                yield return update;
            }

            if (await usage.CloseAsync(attempt).ConfigureAwait(false) is { } cost)
            {
                yield return new ChatResponseUpdate { ResponseId = responseId, AdditionalProperties = new() { [CallCostExtensions.CostKey] = cost } };
            }
        }
        finally
        {
            if (enumerator is not null)
            {
                await enumerator.DisposeAsync().ConfigureAwait(false);
            }

            // Failed or abandoned part-way: charge the partial output, or release when nothing came.
            await usage.CloseAsync(attempt).ConfigureAwait(false);
        }
    }

    private static RoutingHints Hints(ChatOptions? options) => RoutingHints.Combine(RoutingScope.Current, options.GetRoutingHints());

    /// <summary>Over a router: the router reserves per route attempt, so it gets the budget with the options.</summary>
    private ChatOptions CarryBudget(ChatOptions? options, RoutingHints hints) => new BudgetCall(Budget, hints.Tenant, hints.User).AttachTo(options);

    private async ValueTask<BudgetAttempt> ReserveAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, RoutingHints hints, CancellationToken cancellationToken)
    {
        var target = Budget.GetTarget(options?.ModelId ?? _defaultModelId);
        var attempt = await Budget.ReserveAsync(hints.Tenant, hints.User, target, target.TokenCounter.CountTokens(messages), options?.MaxOutputTokens, cancellationToken).ConfigureAwait(false);
        return attempt.Denial is { } denial ? throw denial : attempt;
    }
}
