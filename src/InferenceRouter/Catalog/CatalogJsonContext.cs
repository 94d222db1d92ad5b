using System.Text.Json.Serialization;

namespace InferenceRouter;

/// <summary>Source-generated JSON for model catalogs (no reflection, AOT-safe). A field the format does not know is refused, never ignored.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ModelCatalogDocument))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
