using System.Text.Json.Serialization;

namespace InferenceRouter;

/// <summary>Source-generated JSON for what the Redis package stores (no reflection, AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RedisCacheEntryDocument))]
[JsonSerializable(typeof(FailOpenRecord))]
internal sealed partial class RedisJsonContext : JsonSerializerContext;
