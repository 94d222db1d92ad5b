namespace InferenceRouter;

/// <summary>A route a policy ruled out for a call, and why.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Reason">The first reason given.</param>
public readonly record struct RouteExclusion(string Route, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Route}: {Reason}";
}
