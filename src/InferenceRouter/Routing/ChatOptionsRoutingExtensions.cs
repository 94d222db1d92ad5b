using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Typed helpers that attach <see cref="RoutingHints"/> to a call's <see cref="ChatOptions"/>.</summary>
/// <remarks>
/// The hints live in <see cref="ChatOptions.AdditionalProperties"/> under one key; the router removes them before a provider sees the options.
/// Each helper replaces the hints object rather than changing it, so cloned options never share changes.
/// </remarks>
public static class ChatOptionsRoutingExtensions
{
    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key the hints are stored under.</summary>
    public const string HintsKey = "InferenceRouter.RoutingHints";

    /// <summary>Gets the hints attached to <paramref name="options"/>, or <see langword="null"/>.</summary>
    /// <param name="options">The call's options; may be null.</param>
    /// <returns>The hints, or <see langword="null"/>.</returns>
    public static RoutingHints? GetRoutingHints(this ChatOptions? options) =>
        options?.AdditionalProperties is { } props && props.TryGetValue(HintsKey, out var value) ? value as RoutingHints : null;

    /// <summary>Replaces the hints attached to <paramref name="options"/>.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="hints">The hints.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions WithRoutingHints(this ChatOptions options, RoutingHints hints)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hints);
        (options.AdditionalProperties ??= [])[HintsKey] = hints;
        return options;
    }

    /// <summary>Sends the call to the route named <paramref name="route"/> only.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="route">The route's name.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions WithRoute(this ChatOptions options, string route)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(route);
        return options.Update(h => h with { Route = route });
    }

    /// <summary>Ranks this call's candidates with the policy named <paramref name="policy"/>.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="policy">A policy name known to the router, e.g. <c>lowest-cost</c>.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions WithPolicy(this ChatOptions options, string policy)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(policy);
        return options.Update(h => h with { Policy = policy });
    }

    /// <summary>Allows only routes that have every capability in <paramref name="capabilities"/>.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="capabilities">The capabilities required.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions RequireCapabilities(this ChatOptions options, RouteCapabilities capabilities) =>
        options.Update(h => h with { RequiredCapabilities = h.RequiredCapabilities | capabilities });

    /// <summary>Allows only routes tagged <paramref name="key"/>=<paramref name="value"/> (any value when <paramref name="value"/> is omitted).</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="key">The tag's key, e.g. <c>region</c>.</param>
    /// <param name="value">The tag's value, e.g. <c>eu</c>.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions RequireTag(this ChatOptions options, string key, string? value = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return options.Update(h => h with { RequiredTags = RoutingHints.Merge(h.RequiredTags, new Dictionary<string, string> { [key] = value ?? string.Empty }) });
    }

    /// <summary>Excludes routes tagged <paramref name="key"/>=<paramref name="value"/> (any value when <paramref name="value"/> is omitted).</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="key">The tag's key.</param>
    /// <param name="value">The tag's value.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions ExcludeTag(this ChatOptions options, string key, string? value = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return options.Update(h => h with { ExcludedTags = RoutingHints.Merge(h.ExcludedTags, new Dictionary<string, string> { [key] = value ?? string.Empty }) });
    }

    /// <summary>Allows only routes whose estimated cost for this call is at most <paramref name="maxCost"/>.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="maxCost">The most the call may cost, in the price catalog's currency.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions WithMaxCost(this ChatOptions options, decimal maxCost)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCost);
        return options.Update(h => h with { MaxCost = maxCost });
    }

    /// <summary>Allows only routes whose typical latency is at most <paramref name="maxLatency"/>.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="maxLatency">The highest acceptable moving-average latency.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions WithMaxLatency(this ChatOptions options, TimeSpan maxLatency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxLatency, TimeSpan.Zero);
        return options.Update(h => h with { MaxLatency = maxLatency });
    }

    /// <summary>Keeps the call on this device: only local routes may serve it; remote routes are never tried, even on failure (private data).</summary>
    /// <param name="options">The call's options.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions KeepOnDevice(this ChatOptions options) => options.Update(static h => h with { LocalOnly = true });

    /// <summary>Names the tenant and, optionally, the user the call is made for.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="tenant">The tenant.</param>
    /// <param name="user">The end user.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions ForTenant(this ChatOptions options, string tenant, string? user = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenant);
        return options.Update(h => h with { Tenant = tenant, User = user ?? h.User });
    }

    private static ChatOptions Update(this ChatOptions options, Func<RoutingHints, RoutingHints> change)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.WithRoutingHints(change(options.GetRoutingHints() ?? RoutingHints.None));
    }
}
