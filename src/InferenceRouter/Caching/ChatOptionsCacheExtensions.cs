using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Per-call cache control on <see cref="ChatOptions"/>; the semantic cache removes it before the options go further.</summary>
public static class ChatOptionsCacheExtensions
{
    /// <summary>The <see cref="AdditionalPropertiesDictionary"/> key the control is stored under.</summary>
    public const string CacheControlKey = "InferenceRouter.CacheControl";

    /// <summary>Skips the cache lookup for this call (a fresh answer); the answer may still be stored.</summary>
    /// <param name="options">The call's options.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions NoCache(this ChatOptions options) => options.WithCacheControl(options.GetCacheControl() | CacheControl.NoCache);

    /// <summary>Keeps this call's answer out of the cache (sensitive or one-off content).</summary>
    /// <param name="options">The call's options.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions NoStore(this ChatOptions options) => options.WithCacheControl(options.GetCacheControl() | CacheControl.NoStore);

    /// <summary>Sets the call's cache control.</summary>
    /// <param name="options">The call's options.</param>
    /// <param name="control">The control.</param>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static ChatOptions WithCacheControl(this ChatOptions options, CacheControl control)
    {
        ArgumentNullException.ThrowIfNull(options);
        (options.AdditionalProperties ??= [])[CacheControlKey] = control;
        return options;
    }

    /// <summary>Reads the call's cache control.</summary>
    /// <param name="options">The call's options, or null.</param>
    /// <returns>The control; <see cref="CacheControl.Default"/> when none is set.</returns>
    public static CacheControl GetCacheControl(this ChatOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(CacheControlKey, out var value) == true && value is CacheControl control ? control : CacheControl.Default;
}
