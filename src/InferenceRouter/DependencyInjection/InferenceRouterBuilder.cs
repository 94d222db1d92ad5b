using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace InferenceRouter;

/// <summary>Adds routes and policies to the router registered by <c>AddInferenceRouter</c>.</summary>
public sealed class InferenceRouterBuilder
{
    /// <summary>The name of the <see cref="HttpClient"/> that configuration-built routes send requests through.</summary>
    public const string HttpClientName = "InferenceRouter.Provider";

    private readonly InferenceRouterRegistrations _registrations;

    internal InferenceRouterBuilder(IServiceCollection services, InferenceRouterRegistrations registrations, IHttpClientBuilder httpClient, IConfiguration? configuration)
    {
        Services = services;
        _registrations = registrations;
        ProviderHttpClient = httpClient;
        Configuration = configuration;
    }

    /// <summary>Gets the service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the router's configuration section (usually <c>InferenceRouter</c>), or null when configured in code only; extension packages read their sections from it.</summary>
    public IConfiguration? Configuration { get; }

    /// <summary>Gets the builder of the <see cref="HttpClient"/> under configuration-built routes, to add handlers (proxies, logging).</summary>
    /// <remarks>It has no retry strategy on purpose: the router fails over across routes, and retries here would multiply with it.</remarks>
    public IHttpClientBuilder ProviderHttpClient { get; }

    /// <summary>Adds a route served by <paramref name="client"/>.</summary>
    /// <param name="descriptor">The route's descriptor.</param>
    /// <param name="client">The client; the router disposes it.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder AddRoute(RouteDescriptor descriptor, IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return AddRoute(descriptor, _ => client);
    }

    /// <summary>Adds a route whose client is created from the service provider when the router is first resolved.</summary>
    /// <param name="descriptor">The route's descriptor.</param>
    /// <param name="clientFactory">Creates the client; the router disposes it.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder AddRoute(RouteDescriptor descriptor, Func<IServiceProvider, IChatClient> clientFactory)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(clientFactory);
        OptionsValidation.ThrowIfInvalid(descriptor.GetValidationErrors(), nameof(descriptor));
        _registrations.Routes.Add((descriptor, clientFactory));
        return this;
    }

    /// <summary>
    /// Gets or sets a value indicating whether the first-party providers (<c>InferenceRouter.OpenAI</c>, <c>.Anthropic</c>, <c>.Ollama</c>)
    /// are found by their well-known type names when the app references their package, so <c>"Provider": "Anthropic"</c> works with the
    /// package merely referenced. Default: <see langword="true"/>. Trimming can remove what discovery looks for: a trimmed or AOT app
    /// calls the packages' registrations (<c>AddOpenAIProvider()</c>, …), and may turn discovery off.
    /// </summary>
    public bool DiscoverProviders
    {
        get => _registrations.DiscoverProviders;
        set => _registrations.DiscoverProviders = value;
    }

    /// <summary>Registers a provider that configuration-defined routes select by its <see cref="RouteProvider.Names"/> (<c>"Provider": "…"</c>).</summary>
    /// <param name="provider">The provider; the first one registered for a name wins. Provider packages call this from their <c>AddXxxProvider()</c>.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder AddProvider(RouteProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(RouteProvider), provider));
        return this;
    }

    /// <summary>Registers a policy calls and configuration can select by its <see cref="IRoutingPolicy.Name"/>.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder AddPolicy(IRoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _registrations.Policies.Add(policy);
        return this;
    }

    /// <summary>Registers a policy built from the service provider when the router is first resolved (for policies that need services).</summary>
    /// <param name="policyFactory">Creates the policy.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder AddPolicy(Func<IServiceProvider, IRoutingPolicy> policyFactory)
    {
        ArgumentNullException.ThrowIfNull(policyFactory);
        _registrations.PolicyFactories.Add(policyFactory);
        return this;
    }

    /// <summary>Runs <paramref name="callback"/> once the router is built, e.g. to attach something to it (extension packages use this).</summary>
    /// <param name="callback">Receives the service provider and the router.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder OnRouterCreated(Action<IServiceProvider, RouterChatClient> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        _registrations.RouterCreated.Add(callback);
        return this;
    }

    /// <summary>
    /// Declares that an extension binds <typeparamref name="TOptions"/> from <paramref name="section"/> under the router's configuration
    /// section, so its keys are known. At start every key under the router's section must be one an options type binds (the router's,
    /// the budget's, and those declared here): any other fails naming its full path and the nearest valid key. Extension packages call
    /// this where they read their section (<c>UseRedis()</c> declares <c>Redis</c>).
    /// </summary>
    /// <typeparam name="TOptions">The options type the section binds; its public properties (recursively, through lists and dictionaries) are the keys.</typeparam>
    /// <param name="section">The section's key, e.g. <c>Redis</c>; a dictionary type (<c>Dictionary&lt;string, MyOptions&gt;</c>) lets it hold named entries.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder DeclareSettings<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.Interfaces)] TOptions>(string section)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(section);
        _registrations.Sections[section] = typeof(TOptions);
        return this;
    }

    /// <summary>Changes the router's options after configuration is bound.</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder Configure(Action<InferenceRouterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }

    /// <summary>Changes the budget's options (limits, prices) after configuration is bound; enforce them with <c>UseBudgets()</c> on the returned pipeline.</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public InferenceRouterBuilder ConfigureBudgets(Action<BudgetOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }
}
