using System.Collections.Frozen;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// What is known per model id: prices, context window, output limit and capabilities. Immutable. A model is found only by an id the catalog
/// lists (case-insensitive), an alias the catalog lists, or a dated snapshot of either (<c>gpt-4.1-2025-04-14</c>,
/// <c>claude-3-5-sonnet-20241022</c>); never by a guess, so <c>o3-pro</c> is not <c>o3</c>. The same rule holds for every field.
/// </summary>
/// <remarks>
/// <see cref="Default"/> ships with the package (<c>default-models.json</c>: common OpenAI, Anthropic and Google models, with its source and
/// date in <see cref="Source"/> and <see cref="AsOf"/>). A route's own <see cref="RouteDescriptor"/> values always win over the catalog
/// (<see cref="Complete"/>). Thread-safe.
/// </remarks>
public sealed class ModelCatalog
{
    /// <summary>The version of the catalog file format this package reads (<c>"schemaVersion"</c>).</summary>
    public const int SchemaVersion = 1;

    private readonly FrozenDictionary<string, ModelInfo> _models;
    private readonly FrozenDictionary<string, string> _aliases;
    private readonly FrozenDictionary<string, RoutePricing> _prices;

    // Listed ids and aliases, each resolved to its model: the only ids (with their dated snapshots) that are found.
    private readonly FrozenDictionary<string, ModelInfo> _lookup;

    /// <summary>Creates a catalog.</summary>
    /// <param name="models">Model id → what is known about it.</param>
    /// <param name="aliases">Alias → the listed model id it names (e.g. <c>claude-sonnet-4-0</c> → <c>claude-sonnet-4</c>); none when null.</param>
    /// <param name="currency">The currency of every price (ISO 4217).</param>
    /// <exception cref="ArgumentException">A model id or alias is empty, a model's values are invalid (a negative price, a window smaller than its output limit…), an alias names a model the catalog does not list, or an alias is also a listed id.</exception>
    public ModelCatalog(IEnumerable<KeyValuePair<string, ModelInfo>> models, IEnumerable<KeyValuePair<string, string>>? aliases = null, string currency = "USD")
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentException.ThrowIfNullOrWhiteSpace(currency);
        var map = new Dictionary<string, ModelInfo>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<string>();
        foreach (var (id, model) in models)
        {
            if (string.IsNullOrWhiteSpace(id))
            {
                throw new ArgumentException("A model catalog entry has an empty model id; name the model each entry is for.", nameof(models));
            }

            ArgumentNullException.ThrowIfNull(model, nameof(models));
            errors.AddRange(ModelCatalogEntry.From(model).GetValidationErrors($"Model '{id}'"));
            map[id] = model;
        }

        OptionsValidation.ThrowIfInvalid(errors, nameof(models), "Invalid model catalog:");
        var aliasMap = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lookup = new Dictionary<string, ModelInfo>(map, StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, id) in aliases ?? [])
        {
            if (string.IsNullOrWhiteSpace(alias) || string.IsNullOrWhiteSpace(id))
            {
                throw new ArgumentException("A model catalog alias is empty or names no model; write \"alias\": \"listed-model-id\".", nameof(aliases));
            }

            if (map.ContainsKey(alias))
            {
                throw new ArgumentException($"The model catalog alias '{alias}' is also a listed model id; remove one of them.", nameof(aliases));
            }

            if (!map.TryGetValue(id, out var target))
            {
                throw new ArgumentException($"The model catalog alias '{alias}' names model '{id}', which the catalog does not list; alias a listed model id.", nameof(aliases));
            }

            aliasMap[alias] = id;
            lookup[alias] = target;
        }

        _models = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _aliases = aliasMap.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _lookup = lookup.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _prices = map.Where(m => m.Value.Pricing is not null).ToFrozenDictionary(m => m.Key, m => m.Value.Pricing!, StringComparer.OrdinalIgnoreCase);
        Currency = currency;
    }

    /// <summary>Gets an empty catalog.</summary>
    public static ModelCatalog Empty { get; } = new([]);

    /// <summary>Gets the catalog that ships with the package (the embedded <c>default-models.json</c>).</summary>
    public static ModelCatalog Default => s_default.Value;

    /// <summary>Gets the currency of the prices.</summary>
    public string Currency { get; }

    /// <summary>Gets where the figures come from, as the catalog file states it; null when it does not.</summary>
    public string? Source { get; private init; }

    /// <summary>Gets the date the figures were checked, as the catalog file states it (e.g. <c>2026-12-03</c>); null when it does not.</summary>
    public string? AsOf { get; private init; }

    /// <summary>Gets every listed model, by id.</summary>
    public IReadOnlyDictionary<string, ModelInfo> Models => _models;

    /// <summary>Gets the price of every listed model that has one, by id.</summary>
    public IReadOnlyDictionary<string, RoutePricing> Prices => _prices;

    /// <summary>Gets every alias, with the listed model id it names.</summary>
    public IReadOnlyDictionary<string, string> Aliases => _aliases;

    private static readonly Lazy<ModelCatalog> s_default = new(() =>
    {
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream("InferenceRouter.Catalog.default-models.json")
            ?? throw new InvalidOperationException("The default model catalog is missing from the InferenceRouter assembly.");
        return Load(stream);
    });

    /// <summary>
    /// Reads a catalog from JSON: <c>{ "schemaVersion": 1, "source": "…", "asOf": "2026-12-03", "currency": "USD", "models": { "model-id": {
    /// "inputPerMillion": 1, "outputPerMillion": 2, "contextWindow": 128000, "maxOutputTokens": 16384, "capabilities": "Tools, Images" } },
    /// "aliases": { "other-name": "model-id" } }</c>. Every field of a model is optional; a field the format does not know is refused.
    /// </summary>
    /// <param name="json">The JSON stream.</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="InvalidDataException">The JSON is malformed, holds a field the format does not know, or has another schema version.</exception>
    /// <exception cref="ArgumentException">A model's values are invalid (a negative price, a price without its pair, a window smaller than its output limit…).</exception>
    public static ModelCatalog Load(Stream json)
    {
        ArgumentNullException.ThrowIfNull(json);
        ModelCatalogDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, CatalogJsonContext.Default.ModelCatalogDocument);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"The model catalog is not valid ({e.Message}). Expected {{ \"schemaVersion\": 1, \"models\": {{ \"model-id\": {{ \"inputPerMillion\": 1.0, \"outputPerMillion\": 2.0, " +
                "\"contextWindow\": 128000, \"maxOutputTokens\": 16384, \"capabilities\": \"Tools, Images, JsonSchema, Streaming, Reasoning\" } } }.", e);
        }

        if (document is null)
        {
            throw new InvalidDataException("The model catalog is empty (JSON null).");
        }

        // A file without a version is a price list from before the catalog had one: the same fields, read the same way.
        if (document.SchemaVersion is { } version && version != SchemaVersion)
        {
            throw new InvalidDataException($"The model catalog has schemaVersion {version}; this package reads version {SchemaVersion}. Update the package, or write the file in version {SchemaVersion}.");
        }

        var errors = document.Models.SelectMany(m => m.Value?.GetValidationErrors($"Model '{m.Key}'") ?? [$"Model '{m.Key}' is null; give its fields or remove it."]).ToList();
        OptionsValidation.ThrowIfInvalid(errors, nameof(json), "Invalid model catalog:");
        return new ModelCatalog(document.Models.Select(m => KeyValuePair.Create(m.Key, m.Value.ToModel())), document.Aliases, document.Currency ?? "USD")
        {
            Source = document.Source,
            AsOf = document.AsOf,
        };
    }

    /// <summary>Reads a catalog from a JSON file (see <see cref="Load(Stream)"/>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid catalog; the message names the file.</exception>
    /// <exception cref="ArgumentException">A model's values are invalid; the message names the file.</exception>
    public static ModelCatalog LoadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        try
        {
            return Load(stream);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Returns a catalog with <paramref name="overrides"/> over this one's: a listed model keeps the fields an override leaves unset, a new
    /// model is added; <paramref name="aliases"/> are added (an existing alias that becomes a listed id is dropped).
    /// </summary>
    /// <param name="overrides">Model id → the fields to set.</param>
    /// <param name="aliases">Alias → the listed model id it names; none when null.</param>
    /// <returns>The new catalog (this catalog's currency, source and date).</returns>
    /// <exception cref="ArgumentException">A merged model is invalid (e.g. a new model with an input price and no output price).</exception>
    public ModelCatalog With(IEnumerable<KeyValuePair<string, ModelCatalogEntry>> overrides, IEnumerable<KeyValuePair<string, string>>? aliases = null)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var merged = _models.ToDictionary(m => m.Key, m => ModelCatalogEntry.From(m.Value), StringComparer.OrdinalIgnoreCase);
        foreach (var (id, entry) in overrides)
        {
            ArgumentNullException.ThrowIfNull(entry, nameof(overrides));
            merged[id] = entry.Over(merged.GetValueOrDefault(id));
        }

        var errors = merged.SelectMany(m => m.Value.GetValidationErrors($"Model '{m.Key}'")).ToList();
        OptionsValidation.ThrowIfInvalid(errors, nameof(overrides), "Invalid model catalog:");
        var mergedAliases = _aliases.Where(a => !merged.ContainsKey(a.Key)).ToDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, id) in aliases ?? [])
        {
            mergedAliases[alias] = id;
        }

        return new ModelCatalog(merged.Select(m => KeyValuePair.Create(m.Key, m.Value.ToModel())), mergedAliases, Currency) { Source = Source, AsOf = AsOf };
    }

    /// <summary>Returns a catalog with <paramref name="other"/>'s models over this one's (as <see cref="With(IEnumerable{KeyValuePair{string, ModelCatalogEntry}}, IEnumerable{KeyValuePair{string, string}}?)"/>), its aliases added, in its currency.</summary>
    /// <param name="other">The catalog that wins, e.g. one loaded from a file.</param>
    /// <returns>The new catalog.</returns>
    public ModelCatalog With(ModelCatalog other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var merged = With(other.Models.Select(m => KeyValuePair.Create(m.Key, ModelCatalogEntry.From(m.Value))), other.Aliases);
        return new ModelCatalog(merged.Models, merged.Aliases, other.Currency) { Source = other.Source ?? Source, AsOf = other.AsOf ?? AsOf };
    }

    /// <summary>
    /// Finds what is known about <paramref name="modelId"/>: a listed id or alias, else a dated snapshot of one (a trailing <c>-YYYY-MM-DD</c> or
    /// <c>-YYYYMMDD</c>: <c>gpt-4.1-2025-04-14</c> is <c>gpt-4.1</c>). Any other id is unknown: <c>o3-pro</c> is not <c>o3</c>.
    /// </summary>
    /// <param name="modelId">The model id; a provider prefix (<c>openai/gpt-4o</c>) is ignored.</param>
    /// <param name="model">The model found.</param>
    /// <returns><see langword="true"/> when found.</returns>
    public bool TryGetModel(string? modelId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ModelInfo? model)
    {
        model = null;
        if (string.IsNullOrEmpty(modelId))
        {
            return false;
        }

        if (_lookup.TryGetValue(modelId, out model))
        {
            return true;
        }

        // Looked up once per route or model (callers cache the result), so the substrings cost nothing per call.
        int slash = modelId.LastIndexOf('/');
        var id = slash >= 0 ? modelId[(slash + 1)..] : modelId;
        if (slash >= 0 && _lookup.TryGetValue(id, out model))
        {
            return true;
        }

        // A snapshot the provider dated is the listed model: exact listings (e.g. a snapshot with other prices or limits) won above.
        int dateLength = DatedSuffixLength(id);
        return dateLength > 0 && _lookup.TryGetValue(id[..^dateLength], out model);
    }

    /// <summary>Finds the prices of <paramref name="modelId"/>, by the rules of <see cref="TryGetModel"/>.</summary>
    /// <param name="modelId">The model id; a provider prefix (<c>openai/gpt-4o</c>) is ignored.</param>
    /// <param name="pricing">The prices found.</param>
    /// <returns><see langword="true"/> when the model is found and priced.</returns>
    public bool TryGetPrice(string? modelId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoutePricing? pricing)
    {
        pricing = TryGetModel(modelId, out var model) ? model.Pricing : null;
        return pricing is not null;
    }

    /// <summary>
    /// Returns <paramref name="route"/> with what it leaves unknown (<see langword="null"/>) filled in from the catalog entry of its
    /// <see cref="RouteDescriptor.ModelId"/>: prices (not for a local route, which is free), context window, output limit and capabilities.
    /// What the route declares always wins, and nothing filled contradicts it: a catalog output limit is capped at a declared window, and a
    /// catalog window smaller than a declared output limit is not used. An unknown model returns <paramref name="route"/> itself.
    /// </summary>
    /// <param name="route">The route as declared.</param>
    /// <returns>The completed descriptor.</returns>
    public RouteDescriptor Complete(RouteDescriptor route)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (!TryGetModel(route.ModelId, out var model))
        {
            return route;
        }

        var pricing = route.Pricing ?? (route.IsLocal ? null : model.Pricing);
        var window = route.ContextWindow ?? (model.ContextWindow is { } w && !(route.MaxOutputTokens > w) ? w : null);
        var maxOutput = route.MaxOutputTokens ?? (model.MaxOutputTokens is { } m ? Math.Min(m, window ?? int.MaxValue) : null);
        var capabilities = route.Capabilities ?? model.Capabilities;
        return pricing == route.Pricing && window == route.ContextWindow && maxOutput == route.MaxOutputTokens && capabilities == route.Capabilities
            ? route
            : route.With(pricing, window, maxOutput, capabilities);
    }

    /// <summary>The length of a trailing <c>-YYYY-MM-DD</c> or <c>-YYYYMMDD</c> with a plausible month and day, else 0.</summary>
    internal static int DatedSuffixLength(ReadOnlySpan<char> id)
    {
        if (id.Length > 11 && id[^11] == '-' && id[^6] == '-' && id[^3] == '-' && IsDate(id[^10..^6], id[^5..^3], id[^2..]))
        {
            return 11;
        }

        if (id.Length > 9 && id[^9] == '-' && IsDate(id[^8..^4], id[^4..^2], id[^2..]))
        {
            return 9;
        }

        return 0;

        static bool IsDate(ReadOnlySpan<char> year, ReadOnlySpan<char> month, ReadOnlySpan<char> day) =>
            !year.ContainsAnyExceptInRange('0', '9') && (year[0] is '1' or '2') &&
            int.TryParse(month, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int m) && m is >= 1 and <= 12 &&
            int.TryParse(day, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int d) && d is >= 1 and <= 31;
    }
}
