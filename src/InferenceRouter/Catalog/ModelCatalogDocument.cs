namespace InferenceRouter;

/// <summary>The JSON shape of a model-catalog file: <c>{ "schemaVersion": 1, "source": "…", "asOf": "…", "currency": "USD", "models": { "gpt-4.1": { "inputPerMillion": 2, … } }, "aliases": { … } }</c>.</summary>
internal sealed class ModelCatalogDocument
{
    public int? SchemaVersion { get; set; }

    public string? Source { get; set; }

    public string? AsOf { get; set; }

    public string? Currency { get; set; }

    public Dictionary<string, ModelCatalogEntry> Models { get; set; } = [];

    public Dictionary<string, string> Aliases { get; set; } = [];
}
