namespace InferenceRouter;

/// <summary>The built-in policies, rankers and filters, by name. Each built-in policy is the standard filters followed by one ranker.</summary>
/// <remarks>
/// The concrete classes are internal: a name and a factory are the contract, so their implementation can change. Compose your own
/// with <see cref="CompositeRoutingPolicy"/>: <c>new CompositeRoutingPolicy("eu-fast", RoutingPolicies.CreateFilter(RoutingPolicies.TagsFilter),
/// RoutingPolicies.CreateRanker(RoutingPolicies.LowestLatency))</c>, or implement <see cref="IRoutingPolicy"/>.
/// </remarks>
public static class RoutingPolicies
{
    /// <summary>Registration order (the default).</summary>
    public const string Priority = "priority";

    /// <summary>Random, in proportion to route weights.</summary>
    public const string WeightedRandom = "weighted-random";

    /// <summary>Cheapest estimated call first.</summary>
    public const string LowestCost = "lowest-cost";

    /// <summary>Fastest expected route first (load and failures counted), probing routes left unmeasured.</summary>
    public const string LowestLatency = "lowest-latency";

    /// <summary>Least busy route first.</summary>
    public const string LeastInFlight = "least-in-flight";

    /// <summary>The route with the most of its quota left first (<see cref="ChatRoute.QuotaHeadroom"/>), as LiteLLM's usage-based routing.</summary>
    public const string MostHeadroom = "most-headroom";

    /// <summary>The less busy of two random routes first.</summary>
    public const string PowerOfTwoChoices = "power-of-two-choices";

    /// <summary>The cheapest quality tier predicted to clear the bar first (<see cref="CreateQuality"/>; needs a <see cref="QualityPredictor"/>).</summary>
    public const string Quality = "quality";

    /// <summary>The name of the default policy: the standard filters, then <see cref="Priority"/>.</summary>
    public const string Default = "default";

    /// <summary>The filter that keeps routes with every capability the request implies (tools, images, JSON schema, streaming) or the hints require.</summary>
    public const string CapabilitiesFilter = "capabilities";

    /// <summary>The filter that applies the hints' required and excluded tags.</summary>
    public const string TagsFilter = "tags";

    /// <summary>The filter that keeps routes whose typical latency is within the hints' <c>MaxLatency</c> (probing excluded ones now and then).</summary>
    public const string MaxLatencyFilter = "max-latency";

    /// <summary>The filter that keeps routes whose context window can hold the prompt and its output limit.</summary>
    public const string ContextWindowFilter = "context-window";

    /// <summary>The filter that keeps routes whose worst-case cost is within the hints' <c>MaxCost</c>.</summary>
    public const string MaxCostFilter = "max-cost";

    /// <summary>Gets the names of the filters <see cref="CreateFilter"/> creates, in the order the standard filters run.</summary>
    public static IReadOnlyList<string> FilterNames { get; } = [CapabilitiesFilter, TagsFilter, MaxLatencyFilter, ContextWindowFilter, MaxCostFilter];

    /// <summary>Gets the names of the rankers <see cref="CreateRanker"/> creates.</summary>
    public static IReadOnlyList<string> RankerNames { get; } = [Priority, WeightedRandom, LowestCost, LowestLatency, LeastInFlight, PowerOfTwoChoices, MostHeadroom];

    /// <summary>Gets the names of the built-in policies.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = [Default, Priority, WeightedRandom, LowestCost, LowestLatency, LeastInFlight, PowerOfTwoChoices, MostHeadroom];

    /// <summary>Creates the filters every built-in policy starts with: capabilities, tags, max latency, context window, max cost.</summary>
    /// <remarks>
    /// On-device calls and route health are not here: the router applies them
    /// itself before any policy, built-in or custom, so no policy can undo them.
    /// </remarks>
    /// <param name="latencyProbeRate">The most calls, as a share, that may probe a route the max-latency filter excludes.</param>
    /// <returns>New filter instances, cheapest first.</returns>
    public static IRoutingPolicy[] CreateStandardFilters(double latencyProbeRate = 0.05) =>
        [new CapabilityFilter(), new TagFilter(), new InferenceRouter.MaxLatencyFilter(latencyProbeRate), new InferenceRouter.ContextWindowFilter(), new InferenceRouter.MaxCostFilter()];

    /// <summary>Creates the filter named <paramref name="name"/> (one of <see cref="FilterNames"/>, case-insensitive), to compose a policy.</summary>
    /// <param name="name">The filter's name.</param>
    /// <param name="latencyProbeRate">For <see cref="MaxLatencyFilter"/>: the most calls, as a share, that may probe a route it excludes.</param>
    /// <returns>The filter.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a built-in filter.</exception>
    public static IRoutingPolicy CreateFilter(string name, double latencyProbeRate = 0.05)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name.ToLowerInvariant() switch
        {
            CapabilitiesFilter => new CapabilityFilter(),
            TagsFilter => new TagFilter(),
            MaxLatencyFilter => new InferenceRouter.MaxLatencyFilter(latencyProbeRate),
            ContextWindowFilter => new InferenceRouter.ContextWindowFilter(),
            MaxCostFilter => new InferenceRouter.MaxCostFilter(),
            _ => throw new ArgumentException($"Unknown routing filter '{name}'. Built-in filters: {string.Join(", ", FilterNames)}; implement IRoutingPolicy for others.", nameof(name)),
        };
    }

    /// <summary>Creates the ranker named <paramref name="name"/> (one of <see cref="RankerNames"/>, case-insensitive), to compose a policy.</summary>
    /// <param name="name">The ranker's name.</param>
    /// <param name="latencyExplorationRate">For <see cref="LowestLatency"/>: the most calls, as a share, that may probe one route.</param>
    /// <returns>The ranker.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a built-in ranker.</exception>
    public static IRoutingPolicy CreateRanker(string name, double latencyExplorationRate = 0.05)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name.ToLowerInvariant() switch
        {
            Default or Priority => new PriorityRanker(),
            WeightedRandom => new WeightedRandomRanker(),
            LowestCost => new LowestCostRanker(),
            LowestLatency => new LowestLatencyRanker(latencyExplorationRate),
            LeastInFlight => new LeastInFlightRanker(),
            PowerOfTwoChoices => new PowerOfTwoChoicesRanker(),
            MostHeadroom => new MostHeadroomRanker(),
            _ => throw new ArgumentException($"Unknown routing ranker '{name}'. Built-in rankers: {string.Join(", ", RankerNames)}; implement IRoutingPolicy for others.", nameof(name)),
        };
    }

    /// <summary>Creates the <see cref="Quality"/> policy: the standard filters, then the quality ranker (the cheapest tier that clears the bar first).</summary>
    /// <param name="predictor">The predictor whose bar the policy applies.</param>
    /// <param name="latencyExplorationRate">As for <see cref="Create"/>.</param>
    /// <returns>The policy; register it with <c>AddPolicy</c>.</returns>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public static IRoutingPolicy CreateQuality(QualityPredictor predictor, double latencyExplorationRate = 0.05) =>
        new CompositeRoutingPolicy(Quality, [.. CreateStandardFilters(latencyExplorationRate), new QualityRanker(predictor)]);

    /// <summary>Creates the built-in policy named <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">One of <see cref="BuiltInNames"/>.</param>
    /// <param name="latencyExplorationRate">The most calls, as a share, that may probe one route (<see cref="RouterOptions.LatencyExplorationRate"/>).</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a built-in policy.</exception>
    public static IRoutingPolicy Create(string name, double latencyExplorationRate = 0.05)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!BuiltInNames.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Unknown routing policy '{name}'. Built-in policies: {string.Join(", ", BuiltInNames)}; register others with AddPolicy.", nameof(name));
        }

        var ranker = CreateRanker(name, latencyExplorationRate);
        return new CompositeRoutingPolicy(name.ToLowerInvariant(), [.. CreateStandardFilters(latencyExplorationRate), ranker]);
    }
}
