using System.Text.Json.Serialization;

namespace InferenceRouter;

/// <summary>Source-generated JSON for persisted ledgers (no reflection, AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true, WriteIndented = true)]
[JsonSerializable(typeof(LedgerFileDocument))]
internal sealed partial class BudgetJsonContext : JsonSerializerContext;
