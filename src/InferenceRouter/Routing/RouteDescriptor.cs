namespace InferenceRouter;

/// <summary>What the router must know about a route: who serves it, what it costs and what it can do.</summary>
/// <remarks>Immutable once the router holds it; create one per route with an object initializer.</remarks>
public sealed class RouteDescriptor
{
    /// <summary>Creates a descriptor for the route named <paramref name="name"/>.</summary>
    /// <param name="name">The route's unique name, e.g. <c>"openai/gpt-4.1-mini"</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public RouteDescriptor(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>Gets the route's unique name.</summary>
    public string Name { get; }

    /// <summary>Gets the provider's name, e.g. <c>"openai"</c>, <c>"together"</c>, <c>"local"</c>.</summary>
    public string? Provider { get; init; }

    /// <summary>Gets the model id the route's client serves; passed to the client when the caller asked for another model or route.</summary>
    public string? ModelId { get; init; }

    /// <summary>
    /// Gets the model's prices; <see langword="null"/> when unknown (cost-based policies then rank the route last). A route the router holds
    /// has the model catalog's prices for its <see cref="ModelId"/> when it declares none (<see cref="ModelCatalog.Complete"/>).
    /// </summary>
    public RoutePricing? Pricing { get; init; }

    /// <summary>Gets the model's context window in tokens (prompt plus output); <see langword="null"/> when unknown. Filled from the model catalog when unset.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>Gets the most output tokens the model produces in one call; <see langword="null"/> when unknown. Filled from the model catalog when unset.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>
    /// Gets what the model can do, or <see langword="null"/> when not declared (the default): unknown, so the route stays a candidate for
    /// every request and the provider decides. A declaration is the whole list: a route declaring <c>Streaming</c> alone is excluded
    /// for tool calls, images, JSON schemas and reasoning. When unset, a route takes its model's capabilities from the model catalog
    /// (<see cref="ModelCatalog.Complete"/>); a model the catalog does not list stays unknown.
    /// </summary>
    public RouteCapabilities? Capabilities { get; init; }

    /// <summary>Gets the route's tags, e.g. <c>region=eu</c>, <c>tier=premium</c>, <c>data=zero-retention</c>.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = EmptyTags;

    /// <summary>Gets the route's weight for weighted policies. Must be positive; defaults to 1.</summary>
    public double Weight { get; init; } = 1;

    /// <summary>Gets a value indicating whether the route runs on this device (no network, no per-token cost).</summary>
    public bool IsLocal { get; init; }

    /// <summary>
    /// Gets the tokenizer that counts this model's tokens (exact, or never fewer than the model reads); by default one token per UTF-8
    /// byte (<see cref="TokenCounters.UpperBound"/>). Routes built from configuration get their provider's exact counter (tiktoken for
    /// OpenAI models, from <c>InferenceRouter.OpenAI</c>); give code-built routes theirs, e.g. <c>OpenAITokenCounters.ForModel(model)</c>.
    /// </summary>
    public ITokenCounter? TokenCounter { get; init; }

    /// <summary>
    /// Gets the route's quality tier for quality-aware routing: 0 for the cheapest, higher for stronger (e.g. local 0, small 1, large 2).
    /// Routes without one are tried after every tiered route by the <c>quality</c> policy.
    /// </summary>
    public int? QualityTier { get; init; }

    /// <summary>
    /// Gets whether a stream from this route is complete only when the provider says so (an update with a finish reason): a stream
    /// that ends without one was cut off, and the caller gets an exception after the updates it received. <see langword="null"/> (the
    /// default): as the route's client declares (<see cref="IProviderFailureClassifier.ReportsStreamEnd"/>) — required for the OpenAI,
    /// Anthropic and Ollama clients the provider packages build, not for other clients, whose streams end when they stop. Set it to
    /// <see langword="true"/> for a client known to end every answer with a finish reason, <see langword="false"/> for one that never does.
    /// </summary>
    public bool? RequireFinishReason { get; init; }

    /// <summary>
    /// Gets the provider account's limits for this route (requests and tokens per minute, calls at once), or null for none declared: the
    /// router skips the route for a call that does not fit (<see cref="RouteAttemptOutcome.NotAdmitted"/>) instead of waiting for a 429.
    /// </summary>
    public RouteQuota? Quota { get; init; }

    internal static IReadOnlyDictionary<string, string> EmptyTags { get; } = new Dictionary<string, string>(0, StringComparer.OrdinalIgnoreCase);

    /// <summary>Returns whether the route has tag <paramref name="key"/> with value <paramref name="value"/> (any value when <paramref name="value"/> is null or empty).</summary>
    /// <param name="key">The tag's key.</param>
    /// <param name="value">The value to match, or <see langword="null"/> for any.</param>
    /// <returns><see langword="true"/> when the tag matches.</returns>
    public bool HasTag(string key, string? value) =>
        Tags.TryGetValue(key, out var actual) && (string.IsNullOrEmpty(value) || string.Equals(actual, value, StringComparison.OrdinalIgnoreCase));

    internal IEnumerable<string> GetValidationErrors()
    {
        if (Pricing?.GetValidationError($"Route '{Name}'") is { } priceError)
        {
            yield return priceError;
        }

        if (ContextWindow is <= 0)
        {
            yield return $"Route '{Name}' has ContextWindow {ContextWindow}; give a positive number of tokens or leave it unset.";
        }

        if (MaxOutputTokens is <= 0)
        {
            yield return $"Route '{Name}' has MaxOutputTokens {MaxOutputTokens}; give a positive number of tokens or leave it unset.";
        }

        if (ContextWindow is { } window && MaxOutputTokens is { } maxOut && maxOut > window)
        {
            yield return $"Route '{Name}' has MaxOutputTokens {maxOut} larger than its ContextWindow {window}.";
        }

        if (!(Weight > 0) || double.IsInfinity(Weight))
        {
            yield return $"Route '{Name}' has Weight {Weight}; weights must be positive finite numbers.";
        }

        if (QualityTier is < 0 or > 15)
        {
            yield return $"Route '{Name}' has QualityTier {QualityTier}; give 0 for the cheapest tier up to 15, or leave it unset.";
        }

        foreach (var error in Quota?.GetValidationErrors(Name) ?? [])
        {
            yield return error;
        }
    }

    /// <summary>A copy with the four values a model catalog knows replaced (<see cref="ModelCatalog.Complete"/>).</summary>
    internal RouteDescriptor With(RoutePricing? pricing, int? contextWindow, int? maxOutputTokens, RouteCapabilities? capabilities) => new(Name)
    {
        Provider = Provider,
        ModelId = ModelId,
        Pricing = pricing,
        ContextWindow = contextWindow,
        MaxOutputTokens = maxOutputTokens,
        Capabilities = capabilities,
        Tags = Tags,
        Weight = Weight,
        IsLocal = IsLocal,
        TokenCounter = TokenCounter,
        QualityTier = QualityTier,
        RequireFinishReason = RequireFinishReason,
        Quota = Quota,
    };

    /// <inheritdoc/>
    public override string ToString() => ModelId is null ? Name : $"{Name} ({ModelId})";
}
