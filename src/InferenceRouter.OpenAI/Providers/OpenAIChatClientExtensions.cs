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

    /// <summary>Wraps an <see cref="IChatClient"/> over the OpenAI SDK (e.g. from <c>AsIChatClient()</c>) so it exposes the OpenAI failure rules; calls pass through unchanged.</summary>
    /// <param name="client">The client.</param>
    /// <returns>The route client.</returns>
    public static IChatClient WithOpenAIFailureClassifier(this IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.WithFailureClassifier(OpenAIFailureClassifier.Instance);
    }
}
