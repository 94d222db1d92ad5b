namespace InferenceRouter;

/// <summary>What a <see cref="RouteHealthSignal"/> reports.</summary>
public enum RouteHealthSignalKind
{
    /// <summary>The provider asked callers to wait until <see cref="RouteHealthSignal.Until"/> (Retry-After).</summary>
    RetryAfter,

    /// <summary>The route's circuit opened; it is left alone until <see cref="RouteHealthSignal.Until"/>.</summary>
    CircuitOpened,

    /// <summary>An operator drained the route.</summary>
    Drained,

    /// <summary>An operator restored a drained route.</summary>
    Restored,
}
