namespace InferenceRouter;

/// <summary>What a <see cref="RouteProvider"/> builds a route's client with.</summary>
public sealed class RouteProviderContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="httpClient">The HTTP client to send requests through.</param>
    /// <param name="networkTimeout">The longest one network operation may take.</param>
    /// <param name="apiKey">The route's key, if it has one.</param>
    /// <param name="services">The application's services.</param>
    public RouteProviderContext(HttpClient httpClient, TimeSpan networkTimeout, string? apiKey, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(services);
        HttpClient = httpClient;
        NetworkTimeout = networkTimeout;
        ApiKey = apiKey;
        Services = services;
    }

    /// <summary>Gets the HTTP client to send requests through (<see cref="InferenceRouterBuilder.ProviderHttpClient"/>: a total-timeout safety net, no retries), one per route.</summary>
    public HttpClient HttpClient { get; }

    /// <summary>Gets the longest one network operation may take (<see cref="RouterOptions.AttemptTimeout"/>, else ten minutes).</summary>
    public TimeSpan NetworkTimeout { get; }

    /// <summary>Gets the route's key: <see cref="RouteOptions.ApiKey"/>, else the value of its key's environment variable; null when none is set.</summary>
    public string? ApiKey { get; }

    /// <summary>Gets the application's services.</summary>
    public IServiceProvider Services { get; }
}
