using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Predicts each call's quality per tier (embedding the prompt when the predictor has an embedding generator) and hands the
/// prediction to the router's <c>quality</c> policy through <see cref="RoutingHints.Quality"/>; calls that name no policy use it.
/// </summary>
/// <remarks>
/// Put it innermost, after the semantic cache and budgets, so a cache hit costs no prediction. A call that names a route or a policy
/// keeps it. <see cref="GetService"/> answers for the <see cref="QualityPredictor"/>, so an app can record outcomes through its client.
/// Thread-safe.
/// </remarks>
public sealed class QualityChatClient : DelegatingChatClient
{
    private RouterChatClient? _router;

    /// <summary>Creates the client.</summary>
    /// <param name="innerClient">The pipeline below; it must reach a <see cref="RouterChatClient"/> that has the <c>quality</c> policy.</param>
    /// <param name="predictor">The predictor.</param>
    public QualityChatClient(IChatClient innerClient, QualityPredictor predictor)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        Predictor = predictor;
    }

    /// <summary>Gets the predictor.</summary>
    public QualityPredictor Predictor { get; }

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options = await WithPredictionAsync(messages, options, cancellationToken).ConfigureAwait(false);
        return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options = await WithPredictionAsync(messages, options, cancellationToken).ConfigureAwait(false);
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    /// <summary>Explains how a call would be routed, with the prediction it would carry (the router's <see cref="RouterChatClient.Explain"/> after predicting).</summary>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options.</param>
    /// <param name="cancellationToken">Cancels the embedding.</param>
    /// <returns>The explanation: the <c>quality</c> ranker's verdicts show the prediction, the threshold and why each tier ranks where it does.</returns>
    public async Task<RoutingExplanation> ExplainAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options = await WithPredictionAsync(messages, options, cancellationToken).ConfigureAwait(false);
        return Router.Explain(messages, options);
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(QualityPredictor) ? Predictor : base.GetService(serviceType, serviceKey);
    }

    private RouterChatClient Router
    {
        get
        {
            if (_router is null)
            {
                var router = InnerClient.GetService<RouterChatClient>()
                    ?? throw new InvalidOperationException("UseQualityRouting needs a RouterChatClient below it in the pipeline.");
                if (!router.PolicyNames.Contains(RoutingPolicies.Quality))
                {
                    throw new InvalidOperationException($"The router has no '{RoutingPolicies.Quality}' policy: call AddQualityRouting() on the router builder, or AddPolicy(RoutingPolicies.CreateQuality(predictor)).");
                }

                _router = router;
            }

            return _router;
        }
    }

    private async ValueTask<ChatOptions> WithPredictionAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        _ = Router;
        var callHints = options.GetRoutingHints() ?? RoutingHints.None;
        var combined = RoutingHints.Combine(RoutingScope.Current, callHints);
        if (combined.Route is not null || combined.Quality is not null || (combined.Policy is { } policy && policy != RoutingPolicies.Quality))
        {
            return options ?? new ChatOptions();
        }

        var prediction = await Predictor.PredictAsync(messages, cancellationToken).ConfigureAwait(false);
        var copy = options?.Clone() ?? new ChatOptions();
        return copy.WithRoutingHints(callHints with { Quality = prediction, Policy = RoutingPolicies.Quality });
    }
}
