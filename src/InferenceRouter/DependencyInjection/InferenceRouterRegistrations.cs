using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>Gets or sets the router's configuration section, whose every key must be one some options type binds (null: code only).</summary>
    public IConfiguration? Configuration { get; set; }

    /// <summary>Gets or sets the app's services, to tell whether the pipeline registered here is still the app's <c>IChatClient</c> (see <see cref="PipelineStartValidator"/>).</summary>
    public IServiceCollection? Services { get; set; }

    /// <summary>Gets or sets the registration of the chat pipeline <c>AddInferenceRouter</c> returned.</summary>
    public ServiceDescriptor? Pipeline { get; set; }

    /// <summary>Gets the sections under the router's that other options bind (budgets, quality, Redis, local models…), by key.</summary>
    public Dictionary<string, Type> Sections { get; } = new(StringComparer.OrdinalIgnoreCase) { [BudgetOptions.SectionName] = typeof(BudgetOptions) };
}
