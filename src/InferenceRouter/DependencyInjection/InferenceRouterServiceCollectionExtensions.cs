using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace InferenceRouter;

/// <summary>Registers the router in a service collection.</summary>
public static class InferenceRouterServiceCollectionExtensions
{
    /// <summary>Registers a <see cref="RouterChatClient"/> singleton and the application's <see cref="IChatClient"/> on top of it.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adds routes and policies, changes options.</param>
    /// <returns>The <see cref="ChatClientBuilder"/> of the application's <see cref="IChatClient"/>, to add middleware (<c>UseLogging</c>, <c>UseOpenTelemetry</c>, …).</returns>
    public static ChatClientBuilder AddInferenceRouter(this IServiceCollection services, Action<InferenceRouterBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddInferenceRouter(configuration: null, configure);
    }

    /// <summary>Registers the router with options and routes bound from <paramref name="configuration"/> (usually the <c>InferenceRouter</c> section).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section to bind <see cref="InferenceRouterOptions"/> from; null for code only.</param>
    /// <param name="configure">Adds routes and policies, changes options.</param>
    /// <returns>The <see cref="ChatClientBuilder"/> of the application's <see cref="IChatClient"/>.</returns>
    /// <remarks>Options are validated when the host starts (<c>ValidateOnStart</c>), or when the router is first resolved.</remarks>
    public static ChatClientBuilder AddInferenceRouter(this IServiceCollection services, IConfiguration? configuration, Action<InferenceRouterBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(InferenceRouterRegistrations)))
        {
            throw new InvalidOperationException("AddInferenceRouter was called twice; call it once and add every route in that call.");
        }

        var registrations = new InferenceRouterRegistrations { Configuration = configuration };
        services.AddSingleton(registrations);
        var optionsBuilder = services.AddOptions<InferenceRouterOptions>();
        if (configuration is not null)
        {
            optionsBuilder.Bind(configuration);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceRouterOptions>, InferenceRouterOptionsValidator>());

        var budgetOptions = services.AddOptions<BudgetOptions>();
        if (configuration is not null)
        {
            budgetOptions.Bind(configuration.GetSection(BudgetOptions.SectionName));
        }

        budgetOptions.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BudgetOptions>, BudgetOptionsValidator>());
        // One catalog for the routes and the budget, so what a route is priced at is what it is charged.
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<InferenceRouterOptions>>().Value.ModelCatalog.Build(sp.GetRequiredService<IOptions<BudgetOptions>>().Value));
        services.TryAddSingleton(sp => new BudgetManager(
            sp.GetRequiredService<IOptions<BudgetOptions>>().Value,
            sp.GetService<IBudgetLedger>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>(),
            sp.GetService<TimeProvider>(),
            sp.GetRequiredService<ModelCatalog>()));

        // Provider HTTP: a total-timeout safety net and no retries (the router fails over), no HttpClient.Timeout (streams run long).
        var httpClient = services.AddHttpClient(InferenceRouterBuilder.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        // No default HTTP logging: IHttpClientFactory's Trace lines redact header values in their text but keep them in their structured
        // state, where the Authorization and x-api-key headers carry the route's key. The router logs each attempt itself.
        httpClient.RemoveAllLoggers();
        httpClient.AddHttpMessageHandler(sp => new ProviderTimeoutHandler(NetworkTimeout(sp.GetRequiredService<IOptions<InferenceRouterOptions>>().Value), sp.GetService<TimeProvider>()));

        configure?.Invoke(new InferenceRouterBuilder(services, registrations, httpClient, configuration));

        // Providers by name: the registered ones, then (unless turned off) the first-party ones of referenced packages.
        services.AddSingleton(sp => new RouteProviderRegistry(sp.GetServices<RouteProvider>(), registrations.DiscoverProviders));

        services.AddSingleton(sp => CreateRouter(sp, registrations));
        var pipeline = services.AddChatClient(sp => sp.GetRequiredService<RouterChatClient>());

        // The pipeline is built at start too, so what its layers refuse (UseBudgets with an unpriced route) stops the start.
        registrations.Services = services;
        registrations.Pipeline = services.LastOrDefault(d => d.ServiceType == typeof(IChatClient) && !d.IsKeyedService);
        services.AddOptions<PipelineStartValidator.Check>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PipelineStartValidator.Check>, PipelineStartValidator>());
        return pipeline;
    }

    private static RouterChatClient CreateRouter(IServiceProvider services, InferenceRouterRegistrations registrations)
    {
        var options = services.GetRequiredService<IOptions<InferenceRouterOptions>>().Value;
        var handlers = services.GetRequiredService<IHttpMessageHandlerFactory>();
        var httpClientActions = services.GetRequiredService<IOptionsMonitor<Microsoft.Extensions.Http.HttpClientFactoryOptions>>().Get(InferenceRouterBuilder.HttpClientName).HttpClientActions;
        var clock = services.GetService<TimeProvider>();
        var providers = services.GetRequiredService<RouteProviderRegistry>();
        var catalog = services.GetRequiredService<ModelCatalog>();
        var routes = new List<ChatRoute>();
        foreach (var route in options.Routes)
        {
            // Validation (ValidateOnStart, or reading the options above) refused routes whose provider is not available.
            var provider = providers.Find(route.Provider)!;
            // One HTTP client per route, over the shared provider pipeline, with the route's own record of the waits its provider asks for
            // (SDKs that hide response headers from their exceptions get Retry-After through it).
            var retryAfter = new ProviderRetryAfter(clock);
            var recorder = retryAfter.CreateHandler();
            // And its record of the limits its provider states in every response's headers, which the route's quota follows.
            var rateLimits = new ProviderRateLimits(clock);
            var limitsReader = rateLimits.CreateHandler();
            limitsReader.InnerHandler = handlers.CreateHandler(InferenceRouterBuilder.HttpClientName);
            recorder.InnerHandler = limitsReader;
            var httpClient = new HttpClient(recorder, disposeHandler: false);
            foreach (var configure in httpClientActions)
            {
                configure(httpClient);
            }

            var apiKey = route.ResolveApiKey(provider.GetDefaultApiKeyEnvironmentVariable(route));
            KnownSecrets.Add(apiKey); // redacted by value wherever a server echoes it (ErrorText)
            var context = new RouteProviderContext(httpClient, NetworkTimeout(options), apiKey, services, retryAfter) { RateLimits = rateLimits };
            routes.Add(new ChatRoute(route.ToDescriptor(provider), provider.CreateClient(route, context), catalog));
        }

        foreach (var (descriptor, factory) in registrations.Routes)
        {
            routes.Add(new ChatRoute(descriptor, factory(services), catalog));
        }

        if (services.GetService<QualityPredictor>() is { } predictor && routes.FirstOrDefault(r => r.Descriptor.QualityTier >= predictor.TierCount) is { } beyond)
        {
            throw new InvalidOperationException($"Route '{beyond.Name}' has QualityTier {beyond.Descriptor.QualityTier}, but Quality:TierCount is {predictor.TierCount}; raise TierCount to {beyond.Descriptor.QualityTier + 1} or lower the route's tier.");
        }

        var router = new RouterChatClient(
            routes,
            options,
            [.. registrations.Policies, .. registrations.PolicyFactories.Select(f => f(services))],
            services.GetService<ILoggerFactory>(),
            services.GetService<IMeterFactory>(),
            services.GetService<TimeProvider>());
        foreach (var route in options.Routes)
        {
            if (route.Drained)
            {
                router.DrainRoute(route.Name!);
            }

            if (route.ApiKeyEnvironmentVariable is { } variable && route.ResolveApiKey() is null && route.IsLoopbackEndpoint)
            {
                RouterLog.ApiKeyVariableUnset((ILogger?)services.GetService<ILoggerFactory>()?.CreateLogger<RouterChatClient>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, route.Name!, variable);
            }
        }

        foreach (var callback in registrations.RouterCreated)
        {
            callback(services, router);
        }

        return router;
    }

    /// <summary>
    /// The longest one provider request may take: a second more than the attempt timeout (the router enforces that one itself, around
    /// every wait, and names it when it fires; the SDK's own is the safety net behind it), else ten minutes.
    /// </summary>
    private static TimeSpan NetworkTimeout(InferenceRouterOptions options) =>
        options.AttemptTimeout is { } attempt ? (attempt < RouterOptions.MaxTimeout - TimeSpan.FromSeconds(1) ? attempt + TimeSpan.FromSeconds(1) : RouterOptions.MaxTimeout) : TimeSpan.FromMinutes(10);
}
