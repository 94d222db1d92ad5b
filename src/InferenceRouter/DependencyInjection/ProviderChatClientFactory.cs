using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;

namespace InferenceRouter;

/// <summary>Builds a route's <see cref="IChatClient"/> from configuration with the OpenAI SDK.</summary>
/// <remarks>
/// The SDK's own retries are off (<c>ClientRetryPolicy(0)</c>): the router decides what happens after a failure, so retries do not
/// multiply with failover. Azure OpenAI is reached through its OpenAI-compatible <c>/openai/v1/</c> API with an <c>api-key</c> header.
/// </remarks>
public static class ProviderChatClientFactory
{
    /// <summary>Creates the client for <paramref name="route"/>.</summary>
    /// <param name="route">The route's configuration (validated).</param>
    /// <param name="httpClient">The HTTP client to send requests through; null for the SDK's own.</param>
    /// <param name="networkTimeout">The longest one network operation may take.</param>
    /// <returns>The client.</returns>
    public static IChatClient Create(RouteOptions route, HttpClient? httpClient = null, TimeSpan? networkTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(route);
        var options = new OpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = networkTimeout ?? TimeSpan.FromMinutes(10),
        };
        if (httpClient is not null)
        {
            options.Transport = new HttpClientPipelineTransport(httpClient);
        }

        string key = route.ResolveApiKey() ?? "unused"; // local OpenAI-compatible servers (Ollama, vLLM) need no key
        OpenAIClient client;
        switch (route.Provider)
        {
            case RouteProviderKind.AzureOpenAI:
                options.Endpoint = new Uri(route.Endpoint!.TrimEnd('/') + "/openai/v1/");
#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is the SDK's way to send Azure's api-key header.
                client = new OpenAIClient(ApiKeyAuthenticationPolicy.CreateHeaderApiKeyPolicy(new ApiKeyCredential(key), "api-key"), options);
#pragma warning restore OPENAI001
                break;
            default:
                if (!string.IsNullOrWhiteSpace(route.Endpoint))
                {
                    options.Endpoint = new Uri(route.Endpoint);
                }

                client = new OpenAIClient(new ApiKeyCredential(key), options);
                break;
        }

        return client.GetChatClient(route.Model).AsIChatClient();
    }
}
