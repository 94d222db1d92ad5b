using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Holds what a call's <see cref="ChatOptions.RawRepresentationFactory"/> builds to the call's <see cref="ChatOptions.MaxOutputTokens"/>
/// with its SDK's <see cref="IRawRequestOutputLimiter"/>, and answers <c>GetService(typeof(IRawRequestOutputLimiter))</c> so a budget knows
/// the output limit it sends is the one billed.
/// </summary>
/// <remarks>A call without a raw factory or without an output limit passes through unchanged (no copy). Thread-safe.</remarks>
internal sealed class RawRequestOutputLimitChatClient(IChatClient innerClient, IRawRequestOutputLimiter limiter) : DelegatingChatClient(innerClient)
{
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(messages, Limit(options), cancellationToken);

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(messages, Limit(options), cancellationToken);

    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(IRawRequestOutputLimiter) ? limiter : base.GetService(serviceType, serviceKey);
    }

    private ChatOptions? Limit(ChatOptions? options)
    {
        if (options is not { RawRepresentationFactory: { } factory, MaxOutputTokens: { } max })
        {
            return options;
        }

        // A copy: the caller's options (and its factory) stay as they were, for its next call and for other routes.
        var copy = options.Clone();
        copy.RawRepresentationFactory = client => limiter.Limit(factory(client), max);
        return copy;
    }
}
