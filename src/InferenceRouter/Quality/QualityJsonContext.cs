using System.Text.Json.Serialization;

namespace InferenceRouter;

/// <summary>Source-generated JSON for quality priors and saved predictor state (no reflection, AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(QualityPriorDocument))]
[JsonSerializable(typeof(QualityStateDocument))]
[JsonSerializable(typeof(QualityCellDocument))]
[JsonSerializable(typeof(QualitySampleDocument))]
internal sealed partial class QualityJsonContext : JsonSerializerContext;
