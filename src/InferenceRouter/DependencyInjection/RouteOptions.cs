namespace InferenceRouter;

/// <summary>
/// A route defined in configuration (<c>InferenceRouter:Routes</c>); the router builds its client with the provider's SDK (OpenAI, Anthropic,
/// OllamaSharp) or takes a keyed <c>IChatClient</c> from dependency injection. docs/providers.md lists the keys per provider.
/// </summary>
/// <remarks>Keys come from <see cref="ApiKey"/> or an environment variable (<see cref="ApiKeyEnvironmentVariable"/>); they are never logged.</remarks>
public sealed class RouteOptions
{
    /// <summary>Gets or sets the route's unique name.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// Gets or sets the provider's name (case-insensitive): <c>OpenAI</c> (the default), <c>AzureOpenAI</c> and <c>OpenAICompatible</c>
    /// (package <c>InferenceRouter.OpenAI</c>), <c>Anthropic</c> (<c>InferenceRouter.Anthropic</c>), <c>Ollama</c> (<c>InferenceRouter.Ollama</c>),
    /// <c>Keyed</c> (built in), or one registered with <see cref="InferenceRouterBuilder.AddProvider"/>.
    /// </summary>
    public string Provider { get; set; } = "OpenAI";

    /// <summary>Gets or sets the provider's display name (telemetry), e.g. <c>together</c>. Defaults from <see cref="Provider"/>.</summary>
    public string? ProviderName { get; set; }

    /// <summary>Gets or sets the base URL: required for Azure OpenAI and OpenAI-compatible endpoints.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Gets or sets the model id (the deployment name for Azure OpenAI).</summary>
    public string? Model { get; set; }

    /// <summary>Gets or sets the API key. Prefer <see cref="ApiKeyEnvironmentVariable"/> or user secrets over keys in files.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the environment variable holding the key. Defaults come from the provider: <c>OPENAI_API_KEY</c> for OpenAI, <c>AZURE_OPENAI_API_KEY</c> for Azure OpenAI, <c>ANTHROPIC_API_KEY</c> for Anthropic.</summary>
    public string? ApiKeyEnvironmentVariable { get; set; }

    /// <summary>Gets or sets the key of the <c>IChatClient</c> registered in dependency injection that a <c>Keyed</c> route uses.</summary>
    public string? ServiceKey { get; set; }

    /// <summary>Gets or sets the price per 1M input tokens.</summary>
    public decimal? InputPricePerMillion { get; set; }

    /// <summary>Gets or sets the price per 1M cached input tokens (defaults to the input price).</summary>
    public decimal? CachedInputPricePerMillion { get; set; }

    /// <summary>Gets or sets the price per 1M output tokens.</summary>
    public decimal? OutputPricePerMillion { get; set; }

    /// <summary>Gets or sets the price per 1M reasoning tokens (defaults to the output price).</summary>
    public decimal? ReasoningPricePerMillion { get; set; }

    /// <summary>Gets or sets the price per 1M input tokens written to the prompt cache with its default lifetime (defaults to the input price).</summary>
    public decimal? CacheWritePricePerMillion { get; set; }

    /// <summary>Gets or sets the price per 1M input tokens written to the prompt cache for one hour (defaults to <see cref="CacheWritePricePerMillion"/>).</summary>
    public decimal? CacheWriteOneHourPricePerMillion { get; set; }

    /// <summary>Gets or sets the price per 1M audio input tokens (defaults to the input price).</summary>
    public decimal? AudioInputPricePerMillion { get; set; }

    /// <summary>Gets or sets the price per 1M audio output tokens (defaults to the output price).</summary>
    public decimal? AudioOutputPricePerMillion { get; set; }

    /// <summary>Gets or sets the long-context tier (<c>LongContext:AbovePromptTokens</c>, <c>LongContext:InputPerMillion</c>, …): above its prompt length, all of a call's tokens are billed at its prices.</summary>
    public LongContextPrice? LongContext { get; set; }

    /// <summary>Gets or sets the context window in tokens.</summary>
    public int? ContextWindow { get; set; }

    /// <summary>Gets or sets the most output tokens per call.</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>
    /// Gets or sets the capabilities, e.g. <c>"Tools, Images, JsonSchema, Streaming"</c>: the whole list, so requests needing one it lacks
    /// skip the route. Unset (the default): unknown, the route is a candidate for every request (see <see cref="RouteDescriptor.Capabilities"/>).
    /// </summary>
    public RouteCapabilities? Capabilities { get; set; }

    /// <summary>Gets the route's tags, e.g. <c>{ "region": "eu" }</c>.</summary>
    public Dictionary<string, string> Tags { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets the weight for weighted policies. Default: 1.</summary>
    public double Weight { get; set; } = 1;

    /// <summary>Gets or sets a value indicating whether the endpoint runs on this device (e.g. Ollama on localhost).</summary>
    public bool IsLocal { get; set; }

    /// <summary>Gets or sets the route's quality tier: 0 for the cheapest, higher for stronger (see <see cref="RouteDescriptor.QualityTier"/>).</summary>
    public int? QualityTier { get; set; }

    /// <summary>
    /// Gets or sets whether a stream is complete only when the provider says so (a finish reason); see
    /// <see cref="RouteDescriptor.RequireFinishReason"/>. Unset: required for the OpenAI, Anthropic and Ollama providers, not for keyed clients.
    /// </summary>
    public bool? RequireFinishReason { get; set; }

    /// <summary>
    /// Gets or sets the provider account's limits for the route (<c>Quota:RequestsPerMinute</c>, <c>Quota:TokensPerMinute</c>,
    /// <c>Quota:MaxConcurrency</c>), or null for none: see <see cref="RouteDescriptor.Quota"/>.
    /// </summary>
    public RouteQuota? Quota { get; set; }

    /// <summary>Gets the API key to use: <see cref="ApiKey"/>, else the value of <see cref="ApiKeyEnvironmentVariable"/>, else of <paramref name="defaultEnvironmentVariable"/>.</summary>
    /// <param name="defaultEnvironmentVariable">The provider's variable (<see cref="RouteProvider.GetDefaultApiKeyEnvironmentVariable"/>), e.g. <c>OPENAI_API_KEY</c>.</param>
    /// <returns>The key, or <see langword="null"/>.</returns>
    public string? ResolveApiKey(string? defaultEnvironmentVariable = null)
    {
        if (!string.IsNullOrWhiteSpace(ApiKey))
        {
            return ApiKey;
        }

        var variable = ApiKeyEnvironmentVariable ?? defaultEnvironmentVariable;
        return variable is null ? null : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
    }

    /// <summary>Builds the route's descriptor.</summary>
    /// <param name="provider">The route's provider, for its telemetry name and token counter; null for neither.</param>
    /// <returns>The descriptor.</returns>
    public RouteDescriptor ToDescriptor(RouteProvider? provider = null) => new(Name!)
    {
        Provider = ProviderName ?? provider?.GetTelemetryName(this) ?? (KeyedRouteProvider.IsKeyed(this) ? ServiceKey : Provider.ToLowerInvariant()),
        TokenCounter = provider?.GetTokenCounter(this),
        ModelId = Model,
        Pricing = InputPricePerMillion is null && OutputPricePerMillion is null
            ? null
            : new RoutePricing(InputPricePerMillion ?? 0m, OutputPricePerMillion ?? 0m, CachedInputPricePerMillion, ReasoningPricePerMillion)
            {
                CacheWritePerMillion = CacheWritePricePerMillion,
                CacheWriteOneHourPerMillion = CacheWriteOneHourPricePerMillion,
                AudioInputPerMillion = AudioInputPricePerMillion,
                AudioOutputPerMillion = AudioOutputPricePerMillion,
                LongContext = LongContext?.ToPricing(),
            },
        ContextWindow = ContextWindow,
        MaxOutputTokens = MaxOutputTokens,
        Capabilities = Capabilities,
        Tags = new Dictionary<string, string>(Tags, StringComparer.OrdinalIgnoreCase),
        Weight = Weight,
        IsLocal = IsLocal,
        QualityTier = QualityTier,
        RequireFinishReason = RequireFinishReason,
        Quota = Quota is { IsLimited: true } quota ? quota.Copy() : null,
    };

    /// <summary>Gets or sets a value indicating whether the route starts drained: the router skips it until an operator restores it (<see cref="RouterChatClient.RestoreRoute"/>).</summary>
    public bool Drained { get; set; }

    /// <summary>Says that a <c>Keyed</c> route's client is not registered, and how to fix it.</summary>
    internal string MissingKeyedClientMessage =>
        $"Route '{Name}' uses the IChatClient registered with key '{ServiceKey}', and none is: register it with services.AddKeyedChatClient(\"{ServiceKey}\", …) (or AddKeyedSingleton<IChatClient>), or fix ServiceKey.";

    /// <summary>Gets a value indicating whether <see cref="Endpoint"/> is on this machine (a local server, where keys are optional).</summary>
    public bool IsLoopbackEndpoint => Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) && uri.IsLoopback;

    internal IEnumerable<string> GetValidationErrors(string path, RouteProviderRegistry? providers)
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            yield return $"{path}:Name is missing; give each route a unique name.";
            yield break;
        }

        string setting = path;
        path = $"{path} ('{Name}')";
        var provider = providers?.Find(Provider);
        if (providers is not null && provider is null)
        {
            yield return providers.UnknownProviderMessage(path, Provider);
        }

        if (string.IsNullOrWhiteSpace(Model) && !KeyedRouteProvider.IsKeyed(this))
        {
            yield return $"{path}:Model is missing; name the model (for Azure OpenAI, the deployment).";
        }

        foreach (var error in provider?.GetValidationErrors(this, path) ?? [])
        {
            yield return error;
        }

        if (!string.IsNullOrWhiteSpace(Endpoint) && !(Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            yield return $"{path}:Endpoint '{Endpoint}' is not an absolute http(s) URL.";
        }

        var defaultVariable = provider?.GetDefaultApiKeyEnvironmentVariable(this);
        if (provider?.RequiresApiKey(this) == true && ResolveApiKey(defaultVariable) is null && !IsLoopbackEndpoint)
        {
            yield return $"{path}: no API key; set {setting}:ApiKey (user secrets) or the {ApiKeyEnvironmentVariable ?? defaultVariable ?? "key's"} environment variable.";
        }
        else if (ApiKeyEnvironmentVariable is { } named && ResolveApiKey() is null && !IsLoopbackEndpoint)
        {
            // A remote server that was given a key variable needs it: without it every call would fail with 401, route by route.
            yield return $"{path}:ApiKeyEnvironmentVariable names {named}, which is not set; set it, give {setting}:ApiKey, or remove the setting for a server that needs no key.";
        }

        foreach (var (label, price) in new[]
        {
            (nameof(InputPricePerMillion), InputPricePerMillion), (nameof(CachedInputPricePerMillion), CachedInputPricePerMillion), (nameof(OutputPricePerMillion), OutputPricePerMillion),
            (nameof(ReasoningPricePerMillion), ReasoningPricePerMillion), (nameof(CacheWritePricePerMillion), CacheWritePricePerMillion),
            (nameof(CacheWriteOneHourPricePerMillion), CacheWriteOneHourPricePerMillion), (nameof(AudioInputPricePerMillion), AudioInputPricePerMillion), (nameof(AudioOutputPricePerMillion), AudioOutputPricePerMillion),
        })
        {
            if (price < 0)
            {
                yield return $"{path}:{label} is {price}; prices are per 1M tokens and must be zero or more.";
            }
        }

        if (InputPricePerMillion is null && OutputPricePerMillion is null &&
            (CacheWritePricePerMillion ?? CacheWriteOneHourPricePerMillion ?? AudioInputPricePerMillion ?? AudioOutputPricePerMillion) is not null | LongContext is not null)
        {
            // The prices go together: a cache-write, audio or long-context price alone would leave the route priced by the catalog's others.
            yield return $"{path} sets a cache-write, audio or LongContext price but no InputPricePerMillion or OutputPricePerMillion; give the route's InputPricePerMillion and OutputPricePerMillion too, or remove the others.";
        }

        foreach (var error in LongContext?.GetValidationErrors($"{path}:{nameof(LongContext)}") ?? [])
        {
            yield return error;
        }

        if (Name is not null && !string.IsNullOrWhiteSpace(Name))
        {
            foreach (var error in ToDescriptor().GetValidationErrors())
            {
                if (!error.Contains("negative price", StringComparison.Ordinal))
                {
                    yield return $"{path}: {error}";
                }
            }
        }
    }
}
