using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace InferenceRouter;

/// <summary>Makes OpenAI SDK clients built in code into route clients: the router then reads their status, Retry-After and error events.</summary>
public static class OpenAIChatClientExtensions
{
    /// <summary>
    /// Returns <paramref name="chatClient"/> as an <see cref="IChatClient"/> that exposes the OpenAI failure rules and holds a raw
    /// <c>ChatCompletionOptions</c> (<see cref="ChatOptions.RawRepresentationFactory"/>) to the call's <see cref="ChatOptions.MaxOutputTokens"/>, for
    /// <c>new ChatRoute(descriptor, client)</c> or <c>AddRoute</c>. Turn the SDK's retries off (<c>RetryPolicy = new ClientRetryPolicy(0)</c>): the router fails over.
    /// </summary>
    /// <param name="chatClient">The SDK's chat client, e.g. <c>new OpenAIClient(key).GetChatClient("gpt-4.1-mini")</c>.</param>
    /// <returns>The route client.</returns>
    public static IChatClient AsRouteClient(this ChatClient chatClient)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        return chatClient.AsIChatClient().WithRawRequestOutputLimit(OpenAIRawRequestOutputLimiter.Instance).WithOpenAIFailureClassifier();
    }

    /// <summary>
    /// Returns <paramref name="chatClient"/> as a route client (as <see cref="AsRouteClient(ChatClient)"/>) whose route's quota follows the
    /// <c>x-ratelimit-*</c> headers its responses carry: build the SDK client with options to which
    /// <see cref="AddProviderRateLimits"/> added <paramref name="rateLimits"/>.
    /// </summary>
    /// <param name="chatClient">The SDK's chat client.</param>
    /// <param name="rateLimits">The record its pipeline publishes to.</param>
    /// <returns>The route client.</returns>
    public static IChatClient AsRouteClient(this ChatClient chatClient, ProviderRateLimits rateLimits)
    {
        ArgumentNullException.ThrowIfNull(rateLimits);
        return chatClient.AsRouteClient().WithProviderRateLimits(rateLimits);
    }

    /// <summary>Adds a pipeline policy that reads every response's <c>x-ratelimit-*</c> headers (OpenAI, Azure OpenAI) into <paramref name="rateLimits"/>.</summary>
    /// <param name="options">The SDK client's options.</param>
    /// <param name="rateLimits">The record; pass the same to <see cref="AsRouteClient(ChatClient, ProviderRateLimits)"/>.</param>
    /// <returns>The options.</returns>
    public static OpenAI.OpenAIClientOptions AddProviderRateLimits(this OpenAI.OpenAIClientOptions options, ProviderRateLimits rateLimits)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rateLimits);
        options.AddPolicy(new OpenAIRateLimitsPolicy(rateLimits), System.ClientModel.Primitives.PipelinePosition.PerTry);
        return options;
    }

    /// <summary>Wraps an <see cref="IChatClient"/> over the OpenAI SDK (e.g. from <c>AsIChatClient()</c>) so it exposes the OpenAI failure rules; calls pass through unchanged.</summary>
    /// <param name="client">The client.</param>
    /// <returns>The route client.</returns>
    public static IChatClient WithOpenAIFailureClassifier(this IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.WithFailureClassifier(OpenAIFailureClassifier.Instance);
    }
}
