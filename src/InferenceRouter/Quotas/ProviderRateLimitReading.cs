namespace InferenceRouter;

/// <summary>One response's statement about one of its provider's limits: requests or tokens, the limit, what is left, when it is full again.</summary>
/// <param name="Tokens">Whether it is about tokens (else requests).</param>
/// <param name="Limit">The per-minute limit, when stated.</param>
/// <param name="Remaining">What is left now.</param>
/// <param name="Reset">How long until the limit is whole again, when stated.</param>
internal readonly record struct ProviderRateLimitReading(bool Tokens, long? Limit, long Remaining, TimeSpan? Reset);
