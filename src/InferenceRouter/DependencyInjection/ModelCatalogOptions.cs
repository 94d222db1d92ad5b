namespace InferenceRouter;

/// <summary>
/// Where the router's model catalog comes from, bound from <c>InferenceRouter:ModelCatalog</c>: the shipped catalog (unless
/// <see cref="UseDefault"/> is off), then a catalog file (<see cref="Path"/>), then the models and aliases set here. Routes built from
/// configuration or added on the builder take what they do not declare from it, and the budget prices from it.
/// </summary>
/// <example>
/// <code>
/// "ModelCatalog": {
///   "Path": "models.json",
///   "Models": {
///     "gpt-4.1": { "ContextWindow": 200000 },
///     "my-finetune": { "InputPerMillion": 3, "OutputPerMillion": 12, "ContextWindow": 128000, "MaxOutputTokens": 16384, "Capabilities": "Tools, JsonSchema, Streaming" }
///   },
///   "Aliases": { "prod-model": "gpt-4.1" }
/// }
/// </code>
/// </example>
public sealed class ModelCatalogOptions
{
    /// <summary>The configuration section under <c>InferenceRouter</c>.</summary>
    public const string SectionName = "ModelCatalog";

    /// <summary>Gets or sets a value indicating whether to start from the catalog shipped with the package (<see cref="ModelCatalog.Default"/>).</summary>
    public bool UseDefault { get; set; } = true;

    /// <summary>Gets or sets a JSON catalog file (the format of <see cref="ModelCatalog.Load"/>) read over the shipped catalog.</summary>
    public string? Path { get; set; }

    /// <summary>Gets models by id: a listed model keeps what an entry leaves unset, a new id is added.</summary>
    public Dictionary<string, ModelCatalogEntry> Models { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets other names of listed models, e.g. <c>{ "prod-model": "gpt-4.1" }</c>.</summary>
    public Dictionary<string, string> Aliases { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Builds the catalog: shipped (unless this or the budget's <see cref="BudgetOptions.UseDefaultPriceCatalog"/> is off), <see cref="Path"/>,
    /// <see cref="Models"/> and <see cref="Aliases"/>, then the budget's older price keys (<see cref="BudgetOptions.PriceCatalogPath"/>,
    /// <see cref="BudgetOptions.Prices"/>), which win where both set a price, as they did before the catalog.
    /// </summary>
    internal ModelCatalog Build(BudgetOptions? budget)
    {
        var catalog = UseDefault && budget?.UseDefaultPriceCatalog != false ? ModelCatalog.Default : ModelCatalog.Empty;
        if (Path is { } path)
        {
            catalog = catalog.With(ModelCatalog.LoadFile(path));
        }

        if (Models.Count > 0 || Aliases.Count > 0)
        {
            catalog = catalog.With(Models, Aliases);
        }

        return budget is null ? catalog : BudgetManager.BuildCatalog(budget, catalog);
    }

    /// <summary>Lists what is wrong, each message naming the key and the fix.</summary>
    internal IEnumerable<string> GetValidationErrors(string path)
    {
        path = $"{path}:{SectionName}";
        var errors = new List<string>();
        foreach (var (id, entry) in Models)
        {
            errors.AddRange(entry is null ? [$"{path}:Models:{id} is empty; give its fields or remove it."] : entry.GetValidationErrors($"{path}:Models:{id}"));
        }

        if (Path is { } file && !File.Exists(file))
        {
            errors.Add($"{path}:Path '{file}' does not exist; fix the path or remove the setting.");
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        try
        {
            // What only the whole catalog can say: a file that does not parse, an alias of no model, a merge that contradicts itself.
            Build(budget: null);
            return [];
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            return [$"{path}: {e.Message}"];
        }
    }
}
