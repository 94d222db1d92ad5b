namespace InferenceRouter;

/// <summary>Keys an embedding generator may set in <see cref="Microsoft.Extensions.AI.Embedding.AdditionalProperties"/> for the semantic cache.</summary>
public static class EmbeddingProperties
{
    /// <summary>
    /// A <see cref="bool"/>: whether the text was cut to fit the model's window. A truncated embedding does not represent the whole prompt,
    /// so the cache never matches or stores it (exact tier only).
    /// </summary>
    public const string Truncated = "InferenceRouter.Truncated";
}
