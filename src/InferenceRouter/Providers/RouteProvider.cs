using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// A provider that configuration-defined routes select by name (<c>"Provider": "Anthropic"</c>): it validates a route's settings and
/// builds the route's <see cref="IChatClient"/>. The first-party providers come in their own packages (<c>InferenceRouter.OpenAI</c>,
/// <c>InferenceRouter.Anthropic</c>, <c>InferenceRouter.Ollama</c>); register your own with <see cref="InferenceRouterBuilder.AddProvider"/>.
/// </summary>
/// <remarks>
/// As YARP resolves policies by name, the router resolves a route's provider by <see cref="Names"/> (case-insensitive) from the
/// providers registered in dependency injection. A provider is a singleton shared by every route naming it: implementations must be
/// thread-safe and keep no per-route state. The clients it builds should have their SDK's own retries off (the router fails over) and
/// expose their SDK's failure rules (<see cref="IProviderFailureClassifier"/>, see <see cref="ProviderFailureChatClientExtensions.WithFailureClassifier"/>).
/// </remarks>
public abstract class RouteProvider
{
    /// <summary>Gets the names routes select this provider by, e.g. <c>OpenAI</c>, <c>AzureOpenAI</c>, <c>OpenAICompatible</c>.</summary>
    public abstract IReadOnlyList<string> Names { get; }

    /// <summary>Gets the environment variable a route's key is read from when it names none (<see cref="RouteOptions.ApiKeyEnvironmentVariable"/>).</summary>
    /// <param name="route">The route.</param>
    /// <returns>The variable, e.g. <c>OPENAI_API_KEY</c>; null when the provider has none.</returns>
    public virtual string? GetDefaultApiKeyEnvironmentVariable(RouteOptions route) => null;

    /// <summary>Returns whether the route needs an API key (a route on a loopback endpoint never does): without one, startup fails naming the setting.</summary>
    /// <param name="route">The route.</param>
    /// <returns><see langword="true"/> when calls without a key would be refused.</returns>
    public virtual bool RequiresApiKey(RouteOptions route) => false;

    /// <summary>Gets the provider name telemetry reports for the route when it sets no <see cref="RouteOptions.ProviderName"/>.</summary>
    /// <param name="route">The route.</param>
    /// <returns>The name, e.g. <c>openai</c>; by default the route's <see cref="RouteOptions.Provider"/> in lower case.</returns>
    public virtual string GetTelemetryName(RouteOptions route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return route.Provider.ToLowerInvariant();
    }

    /// <summary>Gets the tokenizer that counts the route's tokens exactly, when the provider knows it for the route's model.</summary>
    /// <param name="route">The route.</param>
    /// <returns>The counter; null for the router's upper bound (<see cref="TokenCounters.UpperBound"/>).</returns>
    public virtual ITokenCounter? GetTokenCounter(RouteOptions route) => null;

    /// <summary>Checks the provider's own settings of a route (the router checks the common ones: name, model, endpoint URL, key, prices).</summary>
    /// <param name="route">The route.</param>
    /// <param name="path">The route's place in configuration with its name, e.g. <c>Routes:0 ('claude')</c>, to start each message with.</param>
    /// <returns>Every problem, each naming the setting and the fix; none when the route is valid.</returns>
    public virtual IEnumerable<string> GetValidationErrors(RouteOptions route, string path) => [];

    /// <summary>Builds the route's client; called once per route when the router is built, after validation passed.</summary>
    /// <param name="route">The route's settings (validated).</param>
    /// <param name="context">The HTTP client, timeout, key and services to build it with.</param>
    /// <returns>The client; the router disposes it.</returns>
    public abstract IChatClient CreateClient(RouteOptions route, RouteProviderContext context);
}
