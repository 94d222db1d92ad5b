using Microsoft.Extensions.AI;
using OllamaSharp;

namespace InferenceRouter;

/// <summary>Makes OllamaSharp clients built in code into route clients: the router then reads their stream error events.</summary>
public static class OllamaChatClientExtensions
{
    /// <summary>Returns <paramref name="client"/> as an <see cref="IChatClient"/> that exposes the Ollama failure rules, for <c>new ChatRoute(descriptor, client)</c> or <c>AddRoute</c>.</summary>
    /// <param name="client">The client, e.g. <c>new OllamaApiClient(new Uri("http://localhost:11434"), "llama3.2")</c>.</param>
    /// <returns>The route client; disposing it disposes <paramref name="client"/>.</returns>
    public static IChatClient AsRouteClient(this OllamaApiClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return ((IChatClient)client).WithOllamaFailureClassifier();
    }

    /// <summary>Wraps an <see cref="IChatClient"/> over OllamaSharp so it exposes the Ollama failure rules; calls pass through unchanged.</summary>
    /// <param name="client">The client.</param>
    /// <returns>The route client.</returns>
    public static IChatClient WithOllamaFailureClassifier(this IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.WithFailureClassifier(OllamaFailureClassifier.Instance);
    }
}
