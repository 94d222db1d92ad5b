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
    private readonly RouterChatClient? _router;
    private readonly string? _defaultModelId;
    private BudgetCall? _lastCall; // immutable: the next call for the same tenant and user reuses it

    /// <summary>Creates the budget client.</summary>
    /// <param name="innerClient">The client to call (a router or a provider's client).</param>
    /// <param name="budget">The budget to enforce.</param>
    public BudgetChatClient(IChatClient innerClient, BudgetManager budget)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(budget);
        Budget = budget;
        _router = innerClient.GetService(typeof(RouterChatClient)) as RouterChatClient;
        _defaultModelId = innerClient.GetService<ChatClientMetadata>()?.DefaultModelId;
    }

    /// <summary>Gets the budget enforced.</summary>
    public BudgetManager Budget { get; }

    /// <inheritdoc/>
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var hints = Hints(options);
        if (_router is null)
        {
            return GetBudgetedResponseAsync(messages, options, hints, cancellationToken);
        }

        // The router reads the budget synchronously when the call starts, and its continuations keep it.
        var previous = BudgetCall.Enter(CallFor(hints));
        try
        {
            return base.GetResponseAsync(messages, options, cancellationToken);
        }
        finally
        {
            BudgetCall.Exit(previous);
        }
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var hints = Hints(options);
        return _router is null
            ? GetBudgetedStreamAsync(messages, options, hints, cancellationToken)
            : GetRoutedStreamAsync(messages, options, CallFor(hints), cancellationToken);
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(BudgetManager) ? Budget : base.GetService(serviceType, serviceKey);
    }

    /// <summary>A stream's body runs when it is first read: the budget is entered there, around the router's first step.</summary>
    private async IAsyncEnumerable<ChatResponseUpdate> GetRoutedStreamAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, BudgetCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Set inside this iterator's step, so it flows into the router's first step and is undone when the step returns.
        BudgetCall.Enter(call);
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    private async Task<ChatResponse> GetBudgetedResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, RoutingHints hints, CancellationToken cancellationToken)
    {
        var attempt = await ReserveAsync(messages, options, hints, cancellationToken).ConfigureAwait(false);
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
        IEnumerable<ChatMessage> messages, ChatOptions? options, RoutingHints hints, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var attempt = await ReserveAsync(messages, options, hints, cancellationToken).ConfigureAwait(false);
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

    private BudgetCall CallFor(RoutingHints hints)
    {
        if (_lastCall is { } last && string.Equals(last.Tenant, hints.Tenant, StringComparison.Ordinal) && string.Equals(last.User, hints.User, StringComparison.Ordinal))
        {
            return last;
        }

        return _lastCall = new BudgetCall(Budget, _router!, hints.Tenant, hints.User);
    }

    private static RoutingHints Hints(ChatOptions? options) => RoutingHints.Combine(RoutingScope.Current, options.GetRoutingHints());

    /// <summary>Returns options whose output limit is the one reserved, so the provider can never bill more output than the budget holds.</summary>
    internal static ChatOptions WithOutputLimit(ChatOptions? options, int maxOutputTokens)
    {
        if (options?.MaxOutputTokens == maxOutputTokens)
        {
            return options;
        }

        var copy = options?.Clone() ?? new ChatOptions();
        copy.MaxOutputTokens = maxOutputTokens;
        return copy;
    }

    private async ValueTask<BudgetAttempt> ReserveAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, RoutingHints hints, CancellationToken cancellationToken)
    {
        var target = Budget.GetTarget(options?.ModelId ?? _defaultModelId);
        var attempt = await Budget.ReserveAsync(hints.Tenant, hints.User, target, PromptTokens.Count(TokenCounters.UpperBound, messages, options), messages, options, cancellationToken).ConfigureAwait(false);
        return attempt.Denial is { } denial ? throw denial : attempt;
    }
}
