namespace InferenceRouter;

/// <summary>One step in choosing routes for a call: a filter excludes candidates, a ranker scores them (lower is better).</summary>
/// <remarks>
/// Policies compose with <see cref="CompositeRoutingPolicy"/>: filters first, then one ranker; the router then tries the remaining
/// candidates in ascending score order (ties keep registration order). Implementations must be thread-safe and should not allocate:
/// <see cref="Apply"/> runs on every call.
/// </remarks>
public interface IRoutingPolicy
{
    /// <summary>Gets the policy's name, shown by <see cref="RouterChatClient.Explain"/> and used to pick it from configuration.</summary>
    string Name { get; }

    /// <summary>Excludes or scores the candidates of <paramref name="selection"/>.</summary>
    /// <param name="selection">The call's candidates and request.</param>
    void Apply(RouteSelection selection);
}
