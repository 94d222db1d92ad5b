namespace InferenceRouter;

/// <summary>Per-call steering for the router: a route or policy to use, what the route must offer, what the call may cost.</summary>
/// <remarks>
/// Immutable. Attach to a call with the <see cref="ChatOptionsRoutingExtensions"/> helpers, or to a block of code with <see cref="RoutingScope.Begin"/>.
/// Per-call values win over the ambient scope's; tag constraints and capabilities add up.
/// </remarks>
public sealed record RoutingHints
{
    /// <summary>Gets hints that steer nothing.</summary>
    public static RoutingHints None { get; } = new();

    /// <summary>Gets the name of the only route to use.</summary>
    public string? Route { get; init; }

    /// <summary>Gets the name of the policy to use instead of the router's default.</summary>
    public string? Policy { get; init; }

    /// <summary>Gets the capabilities a route must have, beyond those the request itself implies (tools, images, schema).</summary>
    public RouteCapabilities RequiredCapabilities { get; init; }

    /// <summary>Gets tags a route must have (key → value; an empty value matches any value).</summary>
    public IReadOnlyDictionary<string, string>? RequiredTags { get; init; }

    /// <summary>Gets tags a route must not have (key → value; an empty value excludes any value).</summary>
    public IReadOnlyDictionary<string, string>? ExcludedTags { get; init; }

    /// <summary>Gets the most an attempt may cost, estimated from prompt tokens and the output limit.</summary>
    public decimal? MaxCost { get; init; }

    /// <summary>Gets the highest typical latency (moving average) a route may have.</summary>
    public TimeSpan? MaxLatency { get; init; }

    /// <summary>Gets the tenant the call is made for (budgets and cache partitioning).</summary>
    public string? Tenant { get; init; }

    /// <summary>Gets the end user the call is made for (budgets).</summary>
    public string? User { get; init; }

    /// <summary>Gets a value indicating whether the call must stay on this device: only local routes may serve it, never a remote one (private data).</summary>
    public bool LocalOnly { get; init; }

    /// <summary>Gets the call's quality prediction, which the <c>quality</c> policy routes by (set by <see cref="QualityChatClient"/>).</summary>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public QualityPrediction? Quality { get; init; }

    /// <summary>Combines hints: values set in <paramref name="call"/> win over <paramref name="ambient"/>; capabilities and tags add up.</summary>
    /// <param name="ambient">The outer hints.</param>
    /// <param name="call">The inner, more specific hints.</param>
    /// <returns>The combined hints.</returns>
    public static RoutingHints Combine(RoutingHints? ambient, RoutingHints? call)
    {
        if (ambient is null || ReferenceEquals(ambient, None))
        {
            return call ?? None;
        }

        if (call is null || ReferenceEquals(call, None))
        {
            return ambient;
        }

        return new RoutingHints
        {
            Route = call.Route ?? ambient.Route,
            Policy = call.Policy ?? ambient.Policy,
            RequiredCapabilities = call.RequiredCapabilities | ambient.RequiredCapabilities,
            RequiredTags = Merge(ambient.RequiredTags, call.RequiredTags),
            ExcludedTags = Merge(ambient.ExcludedTags, call.ExcludedTags),
            MaxCost = call.MaxCost ?? ambient.MaxCost,
            MaxLatency = call.MaxLatency ?? ambient.MaxLatency,
            Tenant = call.Tenant ?? ambient.Tenant,
            User = call.User ?? ambient.User,
            LocalOnly = call.LocalOnly || ambient.LocalOnly,
            Quality = call.Quality ?? ambient.Quality,
        };
    }

    internal static IReadOnlyDictionary<string, string>? Merge(IReadOnlyDictionary<string, string>? first, IReadOnlyDictionary<string, string>? second)
    {
        if (first is null || first.Count == 0)
        {
            return second;
        }

        if (second is null || second.Count == 0)
        {
            return first;
        }

        var merged = new Dictionary<string, string>(first, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in second)
        {
            merged[key] = value;
        }

        return merged;
    }
}
