namespace InferenceRouter;

/// <summary>What the router does when a provider's content filter refuses a request (<see cref="RouterOptions.ContentPolicyFallback"/>).</summary>
public enum ContentPolicyFallback
{
    /// <summary>The refusal reaches the caller as the provider sent it (the SDK's exception, or an answer whose finish reason is <c>ContentFilter</c>). The default.</summary>
    Surface = 0,

    /// <summary>
    /// The next candidate route is tried, and each refusal is logged (Warning) and listed in <see cref="RoutingInfo.Attempts"/>: a
    /// refusal reported as an error, a non-streaming answer whose finish reason is <c>ContentFilter</c>, or a stream whose first update
    /// is such a finish with no content. When no other route is left, the last refusal surfaces as it is.
    /// </summary>
    FailOver = 1,
}
