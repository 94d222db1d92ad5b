using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceRouter;

/// <summary>The built-in <c>Keyed</c> provider: the route's client is the <see cref="IChatClient"/> registered in DI with the key <see cref="RouteOptions.ServiceKey"/>.</summary>
internal sealed class KeyedRouteProvider : RouteProvider
{
    public const string Name = "Keyed";

    public override IReadOnlyList<string> Names { get; } = [Name];

    public override string GetTelemetryName(RouteOptions route) => route.ServiceKey ?? Name.ToLowerInvariant();

    public override IEnumerable<string> GetValidationErrors(RouteOptions route, string path)
    {
        if (string.IsNullOrWhiteSpace(route.ServiceKey))
        {
            yield return $"{path}:ServiceKey is missing; Keyed routes name the key of an IChatClient registered with AddKeyedChatClient (or AddKeyedSingleton<IChatClient>).";
        }
    }

    public override IChatClient CreateClient(RouteOptions route, RouteProviderContext context) =>
        (context.Services as IKeyedServiceProvider)?.GetKeyedService<IChatClient>(route.ServiceKey) ?? throw new InvalidOperationException(route.MissingKeyedClientMessage);

    public static bool IsKeyed(RouteOptions route) => string.Equals(route.Provider, Name, StringComparison.OrdinalIgnoreCase);
}
