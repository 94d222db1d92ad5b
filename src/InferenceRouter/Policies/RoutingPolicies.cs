namespace InferenceRouter;

/// <summary>The built-in policies, by name. Each is the standard filters followed by one ranker.</summary>
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

    /// <summary>The less busy of two random routes first.</summary>
    public const string PowerOfTwoChoices = "power-of-two-choices";

    /// <summary>The cheapest quality tier predicted to clear the bar first (<see cref="CreateQuality"/>; needs a <see cref="QualityPredictor"/>).</summary>
    public const string Quality = "quality";

    /// <summary>The name of the default policy: the standard filters, then <see cref="Priority"/>.</summary>
    public const string Default = "default";

    /// <summary>Gets the names of the built-in policies.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = [Default, Priority, WeightedRandom, LowestCost, LowestLatency, LeastInFlight, PowerOfTwoChoices];

    /// <summary>Creates the filters every built-in policy starts with: capabilities, tags, max latency, context window, max cost.</summary>
    /// <remarks>
    /// On-device calls (<see cref="LocalOnlyFilter"/>) and route health (<see cref="HealthFilter"/>) are not here: the router applies them
    /// itself before any policy, built-in or custom, so no policy can undo them.
    /// </remarks>
    /// <param name="latencyProbeRate">The most calls, as a share, that may probe a route the max-latency filter excludes.</param>
    /// <returns>New filter instances, cheapest first.</returns>
    public static IRoutingPolicy[] CreateStandardFilters(double latencyProbeRate = 0.05) =>
        [new CapabilityFilter(), new TagFilter(), new MaxLatencyFilter(latencyProbeRate), new ContextWindowFilter(), new MaxCostFilter()];

    /// <summary>Creates the <see cref="Quality"/> policy: the standard filters, then a <see cref="QualityRanker"/>.</summary>
    /// <param name="predictor">The predictor whose bar the policy applies.</param>
    /// <param name="latencyExplorationRate">As for <see cref="Create"/>.</param>
    /// <returns>The policy; register it with <c>AddPolicy</c>.</returns>
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
        IRoutingPolicy ranker = name.ToLowerInvariant() switch
        {
            Default or Priority => new PriorityRanker(),
            WeightedRandom => new WeightedRandomRanker(),
            LowestCost => new LowestCostRanker(),
            LowestLatency => new LowestLatencyRanker(latencyExplorationRate),
            LeastInFlight => new LeastInFlightRanker(),
            PowerOfTwoChoices => new PowerOfTwoChoicesRanker(),
            _ => throw new ArgumentException($"Unknown routing policy '{name}'. Built-in policies: {string.Join(", ", BuiltInNames)}; register others with AddPolicy.", nameof(name)),
        };

        return new CompositeRoutingPolicy(name.ToLowerInvariant(), [.. CreateStandardFilters(latencyExplorationRate), ranker]);
    }
}
