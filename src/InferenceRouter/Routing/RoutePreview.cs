namespace InferenceRouter;

/// <summary>What <see cref="IRoutePreview.PreviewAsync"/> found: the route a call would be tried on first now, and the context it would carry.</summary>
public sealed class RoutePreview
{
    /// <summary>Creates a preview.</summary>
    /// <param name="firstRoute">The first candidate, or null when no route may serve the call.</param>
    /// <param name="context">The call's context as the previewing layers completed it (e.g. with the quality prediction).</param>
    public RoutePreview(ChatRoute? firstRoute, CallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        FirstRoute = firstRoute;
        Context = context;
    }

    /// <summary>Gets the route the call would be tried on first, or null when no route may serve it.</summary>
    public ChatRoute? FirstRoute { get; }

    /// <summary>
    /// Gets the call's context as the previewing layers completed it: hand it down with the call (<see cref="CallContext.AttachTo"/>) and
    /// they reuse what they computed (the prediction) instead of computing it again.
    /// </summary>
    public CallContext Context { get; }
}
