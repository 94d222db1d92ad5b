namespace InferenceRouter;

/// <summary>
/// Keys an embedding generator may set in <see cref="Microsoft.Extensions.AI.Embedding.AdditionalProperties"/> for the semantic cache:
/// what the embedding input lost. A prompt whose embedding lost anything is exact-tier only (never matched, stored without a vector);
/// the cache logs the decision (event 308) and counts it (<c>inference_router.cache.lookups</c>, tier <c>semantic</c>, outcome
/// <c>truncated</c> or <c>unknown_tokens</c>).
/// </summary>
public static class EmbeddingProperties
{
    /// <summary>
    /// A <see cref="bool"/>: whether the text was cut to fit the model's window. A truncated embedding does not represent the whole prompt,
    /// so the cache never matches or stores it (exact tier only).
    /// </summary>
    public const string Truncated = "InferenceRouter.Truncated";

    /// <summary>
    /// An <see cref="int"/>: how many of the text's tokens the model's vocabulary lacked (BERT's <c>[UNK]</c>: emoji, some scripts, words
    /// over 100 characters). Different unknown characters embed alike ("Is 🍄 safe to eat?" and "Is 🍎 safe to eat?" score 1.0), so the
    /// cache never matches or stores the embedding of a text with any (exact tier only).
    /// </summary>
    public const string UnknownTokens = "InferenceRouter.UnknownTokens";
}
