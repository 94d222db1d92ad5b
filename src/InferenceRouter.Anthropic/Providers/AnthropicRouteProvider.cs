using Anthropic;
using Anthropic.Core;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Builds <c>Anthropic</c> routes with the official Anthropic SDK (Messages API), its retries off (<c>MaxRetries = 0</c>: the router
/// decides what follows a failure). Clients expose the Anthropic failure rules, with the Retry-After their HTTP client records.
/// </summary>
/// <remarks>Found by name by the core (keep the type name and its public constructor); stateless and thread-safe.</remarks>
internal sealed class AnthropicRouteProvider : RouteProvider
{
    public override IReadOnlyList<string> Names { get; } = ["Anthropic"];

    public override string? GetDefaultApiKeyEnvironmentVariable(RouteOptions route) => "ANTHROPIC_API_KEY";

    public override bool RequiresApiKey(RouteOptions route) => true;

    public override IChatClient CreateClient(RouteOptions route, RouteProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(context);
        var options = new ClientOptions
        {
            ApiKey = context.ApiKey ?? "unused", // a local Anthropic-compatible server may need none
            MaxRetries = 0,
            Timeout = context.NetworkTimeout,
            HttpClient = context.HttpClient,
        };
        if (!string.IsNullOrWhiteSpace(route.Endpoint))
        {
            options.BaseUrl = route.Endpoint.TrimEnd('/');
        }

        var routeClient = new AnthropicClient(options).AsRouteClient(route.Model!, route.MaxOutputTokens, context.RetryAfter);
        return context.RateLimits is { } limits ? routeClient.WithProviderRateLimits(limits) : routeClient; // its HttpClient reads the headers
    }
}
