namespace InferenceRouter;

/// <summary>Per-call cache behaviour, set with <see cref="ChatOptionsCacheExtensions"/>.</summary>
[Flags]
public enum CacheControl
{
    /// <summary>Look up and store as usual.</summary>
    Default = 0,

    /// <summary>Do not answer from the cache (the response may still be stored).</summary>
    NoCache = 1,

    /// <summary>Do not store the response.</summary>
    NoStore = 2,
}
