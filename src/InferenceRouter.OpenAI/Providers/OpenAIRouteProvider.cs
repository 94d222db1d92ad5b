using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;

namespace InferenceRouter;

/// <summary>
/// Builds <c>OpenAI</c>, <c>AzureOpenAI</c> and <c>OpenAICompatible</c> routes with the OpenAI SDK, its retries off
/// (<c>ClientRetryPolicy(0)</c>: the router decides what follows a failure). Azure OpenAI is reached through its OpenAI-compatible
/// <c>/openai/v1/</c> API with an <c>api-key</c> header. Clients expose the OpenAI failure rules; routes count tokens with tiktoken for OpenAI models.
/// </summary>
/// <remarks>Found by name by the core (keep the type name and its public constructor); stateless and thread-safe.</remarks>
internal sealed class OpenAIRouteProvider : RouteProvider
{
    private const string OpenAI = "OpenAI";
    private const string AzureOpenAI = "AzureOpenAI";
    private const string OpenAICompatible = "OpenAICompatible";

    public override IReadOnlyList<string> Names { get; } = [OpenAI, AzureOpenAI, OpenAICompatible];

    public override string? GetDefaultApiKeyEnvironmentVariable(RouteOptions route) => KindOf(route) switch
    {
        OpenAI => "OPENAI_API_KEY",
        AzureOpenAI => "AZURE_OPENAI_API_KEY",
        _ => null,
    };

    public override bool RequiresApiKey(RouteOptions route) => KindOf(route) is OpenAI or AzureOpenAI;

    public override string GetTelemetryName(RouteOptions route) => KindOf(route) switch
    {
        OpenAI => "openai",
        AzureOpenAI => "azure.ai.openai",
        _ => "openai-compatible",
    };

    public override ITokenCounter? GetTokenCounter(RouteOptions route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return OpenAITokenCounters.ForModel(route.Model);
    }

    public override IEnumerable<string> GetValidationErrors(RouteOptions route, string path)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (KindOf(route) is AzureOpenAI or OpenAICompatible && string.IsNullOrWhiteSpace(route.Endpoint))
        {
            yield return $"{path}:Endpoint is missing; {KindOf(route)} routes need the base URL (e.g. https://api.together.xyz/v1, http://localhost:11434/v1).";
        }
    }

    public override IChatClient CreateClient(RouteOptions route, RouteProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(context);
        var options = new OpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = context.NetworkTimeout,
            Transport = new HttpClientPipelineTransport(context.HttpClient),
        };

        string key = context.ApiKey ?? "unused"; // local OpenAI-compatible servers (Ollama, vLLM) need no key
        OpenAIClient client;
        if (KindOf(route) == AzureOpenAI)
        {
            options.Endpoint = new Uri(route.Endpoint!.TrimEnd('/') + "/openai/v1/");
#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is the SDK's way to send Azure's api-key header.
            client = new OpenAIClient(ApiKeyAuthenticationPolicy.CreateHeaderApiKeyPolicy(new ApiKeyCredential(key), "api-key"), options);
#pragma warning restore OPENAI001
        }
        else
        {
            if (!string.IsNullOrWhiteSpace(route.Endpoint))
            {
                options.Endpoint = new Uri(route.Endpoint);
            }

            client = new OpenAIClient(new ApiKeyCredential(key), options);
        }

        var routeClient = client.GetChatClient(route.Model).AsRouteClient();
        return context.RateLimits is { } limits ? routeClient.WithProviderRateLimits(limits) : routeClient;
    }

    /// <summary>The route's provider name as this provider spells it.</summary>
    private string KindOf(RouteOptions route) => Names.FirstOrDefault(n => string.Equals(n, route.Provider, StringComparison.OrdinalIgnoreCase)) ?? OpenAI;
}
