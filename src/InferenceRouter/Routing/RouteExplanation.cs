namespace InferenceRouter;

/// <summary>One route's part in a <see cref="RoutingExplanation"/>.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Rank">Its place in the failover order (1 = tried first), or null when excluded.</param>
/// <param name="Score">The final score (lower is better).</param>
/// <param name="ExclusionReason">Why it was excluded, or null.</param>
/// <param name="Verdicts">What each policy said about it, in order.</param>
public sealed record RouteExplanation(string Route, int? Rank, double Score, string? ExclusionReason, IReadOnlyList<PolicyVerdict> Verdicts);
