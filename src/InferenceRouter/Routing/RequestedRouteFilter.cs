using System.Collections.Frozen;

namespace InferenceRouter;

/// <summary>
/// Applied by the router before any policy: a call that names a route (<see cref="RoutingHints.Route"/>) or a model
/// (<see cref="Microsoft.Extensions.AI.ChatOptions.ModelId"/>) goes only to matching routes; naming one that does not exist is an error, not a silent fallback.
/// </summary>
internal sealed class RequestedRouteFilter(ChatRoute[] routes, FrozenDictionary<string, ChatRoute> byName) : IRoutingPolicy
{
    public string Name => "requested-route";

    public void Apply(RouteSelection selection)
    {
        if (selection.Hints.Route is { } requested)
        {
            if (!byName.TryGetValue(requested, out var route))
            {
                throw new InvalidOperationException($"The call asks for route '{requested}', but the router has no such route. Routes: {RouteList()}.");
            }

            for (int i = 0; i < routes.Length; i++)
            {
                if (!ReferenceEquals(routes[i], route))
                {
                    selection.Exclude(i, this, "not the requested route");
                }
            }

            return;
        }

        if (selection.Options?.ModelId is not { } model)
        {
            return;
        }

        bool any = false;
        for (int i = 0; i < routes.Length; i++)
        {
            var descriptor = routes[i].Descriptor;
            if (string.Equals(descriptor.Name, model, StringComparison.OrdinalIgnoreCase) || string.Equals(descriptor.ModelId, model, StringComparison.OrdinalIgnoreCase))
            {
                any = true;
            }
            else
            {
                selection.Exclude(i, this, "not the requested model");
            }
        }

        if (!any)
        {
            throw new InvalidOperationException(
                $"ChatOptions.ModelId is '{model}', which names no route and no route's model. Routes: {RouteList()}. Leave ModelId unset to let the policy choose.");
        }
    }

    private string RouteList() => string.Join(", ", routes.Select(r => r.Descriptor.ModelId is null ? r.Name : $"{r.Name} ({r.Descriptor.ModelId})"));
}
