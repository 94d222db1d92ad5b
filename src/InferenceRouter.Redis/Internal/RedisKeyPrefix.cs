namespace InferenceRouter;

/// <summary>Checks a key prefix: it becomes the keys' Redis Cluster hash tag (<c>{prefix}</c>), so it must be non-empty and brace-free.</summary>
internal static class RedisKeyPrefix
{
    public static string? Problem(string? prefix) =>
        string.IsNullOrWhiteSpace(prefix) || prefix.IndexOfAny(['{', '}']) >= 0
            ? $"KeyPrefix '{prefix}' must be non-empty and have no braces (it becomes the keys' hash tag)."
            : null;
}
