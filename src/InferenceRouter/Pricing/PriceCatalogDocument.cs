namespace InferenceRouter;

/// <summary>The JSON shape of a price-catalog file: <c>{ "currency": "USD", "asOf": "…", "models": { "gpt-4.1": { "inputPerMillion": 2, … } } }</c>.</summary>
internal sealed class PriceCatalogDocument
{
    public string? Currency { get; set; }

    public string? AsOf { get; set; }

    public Dictionary<string, ModelPrice> Models { get; set; } = [];

    public Dictionary<string, string> Aliases { get; set; } = [];
}
