namespace InferenceRouter;

/// <summary>What the router makes of an attempt's exception.</summary>
/// <param name="IsTransient">Whether the failure may well pass (408, 429, 5xx, timeouts, connection errors). With <see cref="Kind"/> unset, the router fails over on exactly these.</param>
/// <param name="StatusCode">The HTTP status, when the exception carries one (or the provider's error names one).</param>
/// <param name="RetryAfter">How long the route asked callers to wait (Retry-After); the router skips it until then.</param>
/// <param name="IsConnectionFailure">Whether no connection could be made (refused, unreachable, DNS): when every remote route fails so, the app is offline.</param>
public readonly record struct FailureClassification(bool IsTransient, int? StatusCode = null, TimeSpan? RetryAfter = null, bool IsConnectionFailure = false)
{
    /// <summary>
    /// Gets what kind of failure it is, which decides failover, health, cooldown and take-out (<see cref="FailureKind"/>). Unset
    /// (<see cref="FailureKind.Unspecified"/>), the router reads it from <see cref="IsTransient"/> and <see cref="StatusCode"/>
    /// (<see cref="EffectiveKind"/>).
    /// </summary>
    public FailureKind Kind { get; init; }

    /// <summary>
    /// Gets the kind the router acts on: <see cref="Kind"/> when set; otherwise, from the status, by the rules every provider shares
    /// (429 and 529 rate limited, 401/402/403/404 misconfigured, any other 4xx the request's fault), else transient when
    /// <see cref="IsTransient"/> says so.
    /// </summary>
    public FailureKind EffectiveKind => Kind != FailureKind.Unspecified ? Kind : StatusCode switch
    {
        429 or 529 => FailureKind.RateLimited,
        401 or 402 or 403 or 404 => FailureKind.RouteMisconfigured,
        >= 400 and < 500 when !IsTransient => FailureKind.InvalidRequest,
        _ => IsTransient ? FailureKind.Transient : FailureKind.Unspecified,
    };
}
