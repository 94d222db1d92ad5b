using System.Text.Json.Serialization;

namespace InferenceRouter;

/// <summary>Source-generated JSON for price catalogs (no reflection, AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PriceCatalogDocument))]
internal sealed partial class PricingJsonContext : JsonSerializerContext;
