namespace InferenceRouter;

/// <summary>
/// What kind of failure an attempt met, and so what the router does about it: fail over or surface, count it against the route or
/// not, cool the route down, take it out. The same kinds, by the same rules, for every provider (docs/routing.md, "How failures are
/// classified", has the table).
/// </summary>
public enum FailureKind
{
    /// <summary>Not said: the router reads the kind from <see cref="FailureClassification.IsTransient"/> and the status (429 rate limited, 401/403/404 misconfigured, other 4xx the request's fault).</summary>
    Unspecified = 0,

    /// <summary>The route failed for now (5xx, a timeout, no connection, an answer that is not one): fail over; counts against the route's health and circuit.</summary>
    Transient,

    /// <summary>
    /// The provider asked callers to slow down (429, <c>rate_limit_exceeded</c>, <c>rate_limit_error</c>) or is overloaded (529,
    /// <c>overloaded_error</c>): fail over; counts against health and circuit; the route is skipped for its Retry-After, else for
    /// <see cref="RouterOptions.RateLimitCooldown"/>.
    /// </summary>
    RateLimited,

    /// <summary>
    /// The route cannot work as configured: a wrong or revoked key (401), no permission (403), an unknown model or deployment (404),
    /// no credit or quota left (402, <c>insufficient_quota</c>). Fail over; the route is taken out of service (its circuit reads
    /// <see cref="RouteCircuitState.Misconfigured"/>) until a probe answers (<see cref="RouterOptions.MisconfiguredRouteProbeInterval"/>)
    /// or an operator restores it (<see cref="RouterChatClient.RestoreRoute"/>).
    /// </summary>
    RouteMisconfigured,

    /// <summary>The prompt does not fit the route's context window: fail over to a route whose declared <see cref="RouteDescriptor.ContextWindow"/> is larger, else surface; not the route's fault.</summary>
    ContextLengthExceeded,

    /// <summary>The provider's content filter refused the request: surfaces, unless <see cref="RouterOptions.ContentPolicyFallback"/> says to fail over; not the route's fault.</summary>
    ContentFiltered,

    /// <summary>The route's model cannot do what the request asks (tools, images, a parameter it does not take): fail over, else surface; not the route's fault.</summary>
    UnsupportedRequest,

    /// <summary>The request itself is wrong (400 <c>invalid_request_error</c>, 422): surfaces at once, unless <see cref="RouterOptions.FailoverOnNonTransientErrors"/>; not the route's fault.</summary>
    InvalidRequest,
}
