using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Predicts each call's quality per tier (embedding the prompt when the predictor has an embedding generator the call may go to) and
/// hands the prediction to the router's <c>quality</c> policy in the call's <see cref="CallContext"/>; calls that name no policy use it.
/// </summary>
/// <remarks>
/// Put it innermost, after the semantic cache and budgets. A call that names a route or a policy keeps it; a call whose context already
/// carries a prediction (the cache asked for a preview first) is not predicted again. <see cref="GetService"/> answers for the
/// <see cref="QualityPredictor"/>, so an app can record outcomes through its client, and for <see cref="IRoutePreview"/>: the preview of a
/// call through this client includes its prediction. Thread-safe.
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed class QualityChatClient : DelegatingChatClient, IRoutePreview
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
        var context = CallContext.Capture(options);
        context = await WithPredictionAsync(messages, context, cancellationToken).ConfigureAwait(false);
        return await base.GetResponseAsync(messages, context.PassDown(options), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);

        // Captured now, not when the stream is first read.
        return StreamAsync(messages, options, CallContext.Capture(options), cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<RoutePreview> PreviewAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, bool streaming, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = await WithPredictionAsync(messages, CallContext.Capture(options), cancellationToken).ConfigureAwait(false);
        var below = InnerClient.GetService<IRoutePreview>() ?? Router;
        return await below.PreviewAsync(messages, context.PassDown(options), streaming, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Explains how a call would be routed, with the prediction it would carry (the router's <see cref="RouterChatClient.Explain"/> after predicting).</summary>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options.</param>
    /// <param name="cancellationToken">Cancels the embedding.</param>
    /// <returns>The explanation: the <c>quality</c> ranker's verdicts show the prediction, the threshold and why each tier ranks where it does.</returns>
    public async Task<RoutingExplanation> ExplainAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = await WithPredictionAsync(messages, CallContext.Capture(options), cancellationToken).ConfigureAwait(false);
        return Router.Explain(messages, context.AttachTo(options));
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is null && (serviceType == typeof(QualityPredictor) || serviceType == typeof(IRoutePreview)))
        {
            return serviceType == typeof(QualityPredictor) ? Predictor : this;
        }

        return base.GetService(serviceType, serviceKey);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        context = await WithPredictionAsync(messages, context, cancellationToken).ConfigureAwait(false);
        await foreach (var update in base.GetStreamingResponseAsync(messages, context.PassDown(options), cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
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

    /// <summary>The call's context with the prediction, unless it names a route or another policy, or already carries one.</summary>
    private async ValueTask<CallContext> WithPredictionAsync(IEnumerable<ChatMessage> messages, CallContext context, CancellationToken cancellationToken)
    {
        _ = Router;
        var hints = context.Hints;
        if (hints.Route is not null || hints.Quality is not null || (hints.Policy is { } policy && policy != RoutingPolicies.Quality))
        {
            return context;
        }

        var prediction = await Predictor.PredictAsync(messages, context, cancellationToken).ConfigureAwait(false);
        return context.WithHints(hints with { Quality = prediction, Policy = RoutingPolicies.Quality });
    }
}
