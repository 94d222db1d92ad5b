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
        : this(httpClient, networkTimeout, apiKey, services, new ProviderRetryAfter())
    {
    }

    /// <summary>Creates a context whose HTTP client records its error responses' waits in <paramref name="retryAfter"/>.</summary>
    /// <param name="httpClient">The HTTP client to send requests through, with <paramref name="retryAfter"/>'s handler on it.</param>
    /// <param name="networkTimeout">The longest one network operation may take.</param>
    /// <param name="apiKey">The route's key, if it has one.</param>
    /// <param name="services">The application's services.</param>
    /// <param name="retryAfter">What the route's provider last asked callers to wait for.</param>
    public RouteProviderContext(HttpClient httpClient, TimeSpan networkTimeout, string? apiKey, IServiceProvider services, ProviderRetryAfter retryAfter)
    {
        ArgumentNullException.ThrowIfNull(retryAfter);
        RetryAfter = retryAfter;
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(services);
        HttpClient = httpClient;
        NetworkTimeout = networkTimeout;
        ApiKey = apiKey;
        Services = services;
    }

    /// <summary>Gets the HTTP client to send requests through (<see cref="InferenceRouterBuilder.ProviderHttpClient"/>: a total-timeout safety net, no retries), one per route.</summary>
    public HttpClient HttpClient { get; }

    /// <summary>
    /// Gets the longest one network operation may take: a second more than <see cref="RouterOptions.AttemptTimeout"/> (the router enforces
    /// that one itself; this is the SDK's safety net behind it), else ten minutes.
    /// </summary>
    public TimeSpan NetworkTimeout { get; }

    /// <summary>Gets the route's key: <see cref="RouteOptions.ApiKey"/>, else the value of its key's environment variable; null when none is set.</summary>
    public string? ApiKey { get; }

    /// <summary>
    /// Gets what the route's provider last asked callers to wait for, recorded from <see cref="HttpClient"/>'s error responses: give it to
    /// the route's failure classifier when the SDK's exceptions do not carry response headers, so Retry-After is honoured on every provider.
    /// </summary>
    public ProviderRetryAfter RetryAfter { get; }

    /// <summary>
    /// Gets the record <see cref="HttpClient"/>'s pipeline reads the provider's rate-limit headers into, or null when it reads none; a
    /// provider exposes it on the client it creates (<see cref="ProviderRateLimitsChatClientExtensions.WithProviderRateLimits"/>) so the
    /// route's quota follows the headers.
    /// </summary>
    public ProviderRateLimits? RateLimits { get; init; }

    /// <summary>Gets the application's services.</summary>
    public IServiceProvider Services { get; }
}
