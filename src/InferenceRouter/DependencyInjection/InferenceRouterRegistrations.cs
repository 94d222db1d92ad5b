using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Routes and policies added in code, kept until the router is built.</summary>
internal sealed class InferenceRouterRegistrations
{
    public List<(RouteDescriptor Descriptor, Func<IServiceProvider, IChatClient> Factory)> Routes { get; } = [];

    public List<IRoutingPolicy> Policies { get; } = [];

    /// <summary>Gets or sets a value indicating whether the first-party providers of referenced packages are found by name (see <see cref="InferenceRouterBuilder.DiscoverProviders"/>).</summary>
    public bool DiscoverProviders { get; set; } = true;

    /// <summary>Gets policies built from the service provider with the router (they need services, e.g. the quality predictor).</summary>
    public List<Func<IServiceProvider, IRoutingPolicy>> PolicyFactories { get; } = [];

    /// <summary>Gets what runs once the router is built (extension packages attach to it here).</summary>
    public List<Action<IServiceProvider, RouterChatClient>> RouterCreated { get; } = [];
}
