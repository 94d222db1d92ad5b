using Microsoft.Extensions.AI;
using OllamaSharp;

namespace InferenceRouter;

/// <summary>Makes OllamaSharp clients built in code into route clients: the router then reads their stream error events.</summary>
public static class OllamaChatClientExtensions
{
    /// <summary>
    /// Returns <paramref name="client"/> as an <see cref="IChatClient"/> that exposes the Ollama failure rules and holds a raw <c>ChatRequest</c>
    /// (<see cref="ChatOptions.RawRepresentationFactory"/>) to the call's <see cref="ChatOptions.MaxOutputTokens"/>, for <c>new ChatRoute(descriptor, client)</c> or <c>AddRoute</c>.
    /// </summary>
    /// <param name="client">The client, e.g. <c>new OllamaApiClient(new Uri("http://localhost:11434"), "llama3.2")</c>.</param>
    /// <param name="retryAfter">
    /// Where the waits the server asks for are recorded, when the client's <c>HttpClient</c> has its handler
    /// (<see cref="ProviderRetryAfter.CreateHandler"/>): OllamaSharp's exceptions carry no headers, so without it Retry-After is not read.
    /// Routes built from configuration have it.
    /// </param>
    /// <returns>The route client; disposing it disposes <paramref name="client"/>.</returns>
    public static IChatClient AsRouteClient(this OllamaApiClient client, ProviderRetryAfter? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return ((IChatClient)client).WithRawRequestOutputLimit(OllamaRawRequestOutputLimiter.Instance).WithOllamaFailureClassifier(retryAfter);
    }

    /// <summary>Wraps an <see cref="IChatClient"/> over OllamaSharp so it exposes the Ollama failure rules; calls pass through unchanged.</summary>
    /// <param name="client">The client.</param>
    /// <param name="retryAfter">Where the waits the server asks for are recorded (see <see cref="AsRouteClient"/>); null: Retry-After is not read.</param>
    /// <returns>The route client.</returns>
    public static IChatClient WithOllamaFailureClassifier(this IChatClient client, ProviderRetryAfter? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.WithFailureClassifier(retryAfter is null ? OllamaFailureClassifier.Instance : new OllamaFailureClassifier(retryAfter));
    }
}
