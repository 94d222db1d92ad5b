namespace InferenceRouter;

/// <summary>Checks a key prefix: it becomes the keys' Redis Cluster hash tag (<c>{prefix}</c>), so it must be non-empty and brace-free.</summary>
internal static class RedisKeyPrefix
{
    public static string? Problem(string? prefix) =>
        prefix is null ? "KeyPrefix is not set; give the app's own prefix (e.g. \"my-app\"): instances with one prefix share one budget, so two apps must never fall into the same one."
        : string.IsNullOrWhiteSpace(prefix) || prefix.IndexOfAny(['{', '}']) >= 0
            ? $"KeyPrefix '{prefix}' must be non-empty and have no braces (it becomes the keys' hash tag)."
            : null;
}
