namespace InferenceRouter;

/// <summary>
/// A model's long-context tier: a call whose billed prompt (every input token: uncached, cached, written to the cache, audio) is longer than
/// <paramref name="AbovePromptTokens"/> is billed at <paramref name="Pricing"/> for all of its tokens, input and output (Gemini 2.5 Pro:
/// above 200,000 prompt tokens, $2.50 in and $15 out per 1M instead of $1.25 and $10).
/// </summary>
/// <param name="AbovePromptTokens">The prompt length, in tokens, above which the tier applies (a prompt of exactly this length is not in it).</param>
/// <param name="Pricing">The tier's prices (its own <see cref="RoutePricing.LongContext"/> must be unset).</param>
public sealed record LongContextPricing(long AbovePromptTokens, RoutePricing Pricing);
