using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Anthropic;
using Anthropic.Core;
using Microsoft.Extensions.DependencyInjection;
using OllamaSharp;
using OpenAI;

namespace InferenceRouter;

/// <summary>Builds a route's <see cref="IChatClient"/> from configuration: the OpenAI SDK, the Anthropic SDK, OllamaSharp, or a keyed client from DI.</summary>
/// <remarks>
/// Every SDK's own retries are off (OpenAI: <c>ClientRetryPolicy(0)</c>; Anthropic: <c>MaxRetries = 0</c>; OllamaSharp has none): the
/// router decides what happens after a failure, so retries do not multiply with failover. Azure OpenAI is reached through its
/// OpenAI-compatible <c>/openai/v1/</c> API with an <c>api-key</c> header. A keyed client is used as registered.
/// </remarks>
public static class ProviderChatClientFactory
{
    /// <summary>The longest one network operation may take when the caller gives no timeout.</summary>
    private static readonly TimeSpan DefaultNetworkTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Creates the client for <paramref name="route"/>.</summary>
    /// <param name="route">The route's configuration (validated).</param>
    /// <param name="httpClient">The HTTP client to send requests through; null for the SDK's own.</param>
    /// <param name="networkTimeout">The longest one network operation may take.</param>
    /// <param name="services">The services to take a <see cref="RouteProviderKind.Keyed"/> route's client from.</param>
    /// <returns>The client.</returns>
    /// <exception cref="InvalidOperationException">A keyed route's client is not registered.</exception>
    public static IChatClient Create(RouteOptions route, HttpClient? httpClient = null, TimeSpan? networkTimeout = null, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(route);
        switch (route.Provider)
        {
            case RouteProviderKind.Anthropic:
                return CreateAnthropic(route, httpClient, networkTimeout);
            case RouteProviderKind.Ollama:
                return CreateOllama(route, httpClient, networkTimeout);
            case RouteProviderKind.Keyed:
                return (services as IKeyedServiceProvider)?.GetKeyedService<IChatClient>(route.ServiceKey) ?? throw new InvalidOperationException(route.MissingKeyedClientMessage);
        }

        var options = new OpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = networkTimeout ?? DefaultNetworkTimeout,
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

    private static IChatClient CreateAnthropic(RouteOptions route, HttpClient? httpClient, TimeSpan? networkTimeout)
    {
        var options = new ClientOptions
        {
            ApiKey = route.ResolveApiKey() ?? "unused", // a local Anthropic-compatible server may need none
            MaxRetries = 0,
            Timeout = networkTimeout ?? DefaultNetworkTimeout,
        };
        if (httpClient is not null)
        {
            options.HttpClient = httpClient;
        }

        if (!string.IsNullOrWhiteSpace(route.Endpoint))
        {
            options.BaseUrl = route.Endpoint.TrimEnd('/');
        }

        return new AnthropicClient(options).AsIChatClient(route.Model!, route.MaxOutputTokens);
    }

    private static IChatClient CreateOllama(RouteOptions route, HttpClient? httpClient, TimeSpan? networkTimeout)
    {
        httpClient ??= new HttpClient();
        httpClient.BaseAddress = new Uri(string.IsNullOrWhiteSpace(route.Endpoint) ? "http://localhost:11434" : route.Endpoint);
        httpClient.Timeout = networkTimeout ?? DefaultNetworkTimeout;
        return new OllamaApiClient(httpClient, route.Model!);
    }
}
