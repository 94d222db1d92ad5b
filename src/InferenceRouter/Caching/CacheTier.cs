namespace InferenceRouter;

/// <summary>Which tier of the semantic cache answered.</summary>
public enum CacheTier
{
    /// <summary>The same normalised request was answered before.</summary>
    Exact,

    /// <summary>A similar enough question, in the same context, was answered before.</summary>
    Semantic,
}
