using Anthropic;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Makes Anthropic SDK clients built in code into route clients: the router then reads their status and stream error events.</summary>
public static class AnthropicChatClientExtensions
{
    /// <summary>
    /// Returns an <see cref="IChatClient"/> for <paramref name="model"/> that exposes the Anthropic failure rules and holds a raw
    /// <c>MessageCreateParams</c> (<see cref="ChatOptions.RawRepresentationFactory"/>) to the call's <see cref="ChatOptions.MaxOutputTokens"/>, for
    /// <c>new ChatRoute(descriptor, client)</c> or <c>AddRoute</c>. Turn the SDK's retries off (<c>MaxRetries = 0</c>): the router fails over.
    /// </summary>
    /// <param name="client">The SDK's client.</param>
    /// <param name="model">The model id, e.g. <c>claude-sonnet-4-5</c>.</param>
    /// <param name="defaultMaxOutputTokens">The output limit sent when a call sets none (the Messages API requires one).</param>
    /// <param name="retryAfter">
    /// Where the waits the provider asks for are recorded, when the SDK's <c>HttpClient</c> has its handler
    /// (<see cref="ProviderRetryAfter.CreateHandler"/>): the SDK's exceptions carry no headers, so without it Retry-After is not read.
    /// Routes built from configuration have it.
    /// </param>
    /// <returns>The route client.</returns>
    public static IChatClient AsRouteClient(this IAnthropicClient client, string model, int? defaultMaxOutputTokens = null, ProviderRetryAfter? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        return client.AsIChatClient(model, defaultMaxOutputTokens).WithRawRequestOutputLimit(AnthropicRawRequestOutputLimiter.Instance).WithAnthropicFailureClassifier(retryAfter);
    }

    /// <summary>Wraps an <see cref="IChatClient"/> over the Anthropic SDK so it exposes the Anthropic failure rules; calls pass through unchanged.</summary>
    /// <param name="client">The client.</param>
    /// <param name="retryAfter">Where the waits the provider asks for are recorded (see <see cref="AsRouteClient"/>); null: Retry-After is not read.</param>
    /// <returns>The route client.</returns>
    public static IChatClient WithAnthropicFailureClassifier(this IChatClient client, ProviderRetryAfter? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.WithFailureClassifier(retryAfter is null ? AnthropicFailureClassifier.Instance : new AnthropicFailureClassifier(retryAfter));
    }
}
