using Microsoft.Extensions.AI;
using OllamaSharp;

namespace InferenceRouter;

/// <summary>
/// Builds <c>Ollama</c> routes on Ollama's native chat API with OllamaSharp (which has no retries of its own); <c>Endpoint</c> defaults
/// to <c>http://localhost:11434</c> and no key is needed. Clients expose the Ollama failure rules, with the Retry-After their HTTP client
/// records, and close a stream whose call was cancelled (<see cref="OllamaRouteApiClient"/>).
/// </summary>
/// <remarks>Found by name by the core (keep the type name and its public constructor); stateless and thread-safe.</remarks>
internal sealed class OllamaRouteProvider : RouteProvider
{
    /// <summary>Where Ollama listens by default.</summary>
    private const string DefaultEndpoint = "http://localhost:11434";

    public override IReadOnlyList<string> Names { get; } = ["Ollama"];

    public override IChatClient CreateClient(RouteOptions route, RouteProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(context);
        var httpClient = context.HttpClient;
        httpClient.BaseAddress = new Uri(string.IsNullOrWhiteSpace(route.Endpoint) ? DefaultEndpoint : route.Endpoint);
        httpClient.Timeout = context.NetworkTimeout;
        return new OllamaRouteApiClient(httpClient, route.Model!).AsRouteClient(context.RetryAfter);
    }
}
