using System.Collections.Frozen;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// Prices per model id. Immutable. A model is priced only from an id the catalog lists (case-insensitive), an alias the catalog lists,
/// or a dated snapshot of either (<c>gpt-4.1-2025-04-14</c>, <c>claude-3-5-sonnet-20241022</c>); never from a guess, so <c>o3-pro</c>
/// is not priced as <c>o3</c>.
/// </summary>
/// <remarks>
/// <see cref="Default"/> ships with the package (list prices of common models; see <c>docs/budgets.md</c> for the date). A route's own
/// <see cref="RouteDescriptor.Pricing"/> always wins over the catalog. Thread-safe.
/// </remarks>
public sealed class PriceCatalog
{
    private readonly FrozenDictionary<string, RoutePricing> _prices;
    private readonly FrozenDictionary<string, string> _aliases;

    // Listed ids and aliases, each resolved to its price: the only ids (with their dated snapshots) that are priced.
    private readonly FrozenDictionary<string, RoutePricing> _lookup;

    /// <summary>Creates a catalog.</summary>
    /// <param name="prices">Model id → prices.</param>
    /// <param name="currency">The currency of every price (ISO 4217).</param>
    /// <exception cref="ArgumentException">A model id is empty or a price is negative.</exception>
    public PriceCatalog(IEnumerable<KeyValuePair<string, RoutePricing>> prices, string currency = "USD")
        : this(prices, [], currency)
    {
    }

    /// <summary>Creates a catalog with aliases: other names of listed models, priced as the model they name.</summary>
    /// <param name="prices">Model id → prices.</param>
    /// <param name="aliases">Alias → the listed model id it names (e.g. <c>claude-sonnet-4-0</c> → <c>claude-sonnet-4</c>).</param>
    /// <param name="currency">The currency of every price (ISO 4217).</param>
    /// <exception cref="ArgumentException">A model id or alias is empty, a price is negative, an alias names a model the catalog does not list, or an alias is also a listed id.</exception>
    public PriceCatalog(IEnumerable<KeyValuePair<string, RoutePricing>> prices, IEnumerable<KeyValuePair<string, string>> aliases, string currency = "USD")
    {
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(aliases);
        ArgumentException.ThrowIfNullOrWhiteSpace(currency);
        var map = new Dictionary<string, RoutePricing>(StringComparer.OrdinalIgnoreCase);
        foreach (var (model, pricing) in prices)
        {
            if (string.IsNullOrWhiteSpace(model))
            {
                throw new ArgumentException("A price catalog entry has an empty model id; name the model each price is for.", nameof(prices));
            }

            ArgumentNullException.ThrowIfNull(pricing, nameof(prices));
            if (pricing.GetValidationError($"Model '{model}' in the price catalog") is { } error)
            {
                throw new ArgumentException(error, nameof(prices));
            }

            map[model] = pricing;
        }

        var aliasMap = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lookup = new Dictionary<string, RoutePricing>(map, StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, model) in aliases)
        {
            if (string.IsNullOrWhiteSpace(alias) || string.IsNullOrWhiteSpace(model))
            {
                throw new ArgumentException("A price catalog alias is empty or names no model; write \"alias\": \"listed-model-id\".", nameof(aliases));
            }

            if (map.ContainsKey(alias))
            {
                throw new ArgumentException($"The price catalog alias '{alias}' is also a listed model id; remove one of them.", nameof(aliases));
            }

            if (!map.TryGetValue(model, out var target))
            {
                throw new ArgumentException($"The price catalog alias '{alias}' names model '{model}', which the catalog does not price; alias a listed model id.", nameof(aliases));
            }

            aliasMap[alias] = model;
            lookup[alias] = target;
        }

        _prices = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _aliases = aliasMap.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _lookup = lookup.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        Currency = currency;
    }

    /// <summary>Gets an empty catalog.</summary>
    public static PriceCatalog Empty { get; } = new([]);

    /// <summary>Gets the catalog that ships with the package (the embedded <c>default-prices.json</c>).</summary>
    public static PriceCatalog Default => s_default.Value;

    /// <summary>Gets the currency of the prices.</summary>
    public string Currency { get; }

    /// <summary>Gets every price, by model id.</summary>
    public IReadOnlyDictionary<string, RoutePricing> Prices => _prices;

    /// <summary>Gets every alias, with the listed model id it names.</summary>
    public IReadOnlyDictionary<string, string> Aliases => _aliases;

    private static readonly Lazy<PriceCatalog> s_default = new(() =>
    {
        using var stream = typeof(PriceCatalog).Assembly.GetManifestResourceStream("InferenceRouter.Budgets.default-prices.json")
            ?? throw new InvalidOperationException("The default price catalog is missing from the InferenceRouter assembly.");
        return Load(stream);
    });

    /// <summary>Reads a catalog from JSON: <c>{ "currency": "USD", "models": { "model-id": { "inputPerMillion": 1, "outputPerMillion": 2 } }, "aliases": { "other-name": "model-id" } }</c>.</summary>
    /// <param name="json">The JSON stream.</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="InvalidDataException">The JSON is malformed.</exception>
    /// <exception cref="ArgumentException">A price is negative.</exception>
    public static PriceCatalog Load(Stream json)
    {
        ArgumentNullException.ThrowIfNull(json);
        PriceCatalogDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, PricingJsonContext.Default.PriceCatalogDocument);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The price catalog is not valid JSON ({e.Message}). Expected {{ \"currency\": \"USD\", \"models\": {{ \"model-id\": {{ \"inputPerMillion\": 1.0, \"outputPerMillion\": 2.0 }} }} }}.", e);
        }

        if (document is null)
        {
            throw new InvalidDataException("The price catalog is empty (JSON null).");
        }

        return new PriceCatalog(document.Models.Select(p => KeyValuePair.Create(p.Key, p.Value.ToPricing())), document.Aliases, document.Currency ?? "USD");
    }

    /// <summary>Reads a catalog from a JSON file (see <see cref="Load(Stream)"/>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The catalog.</returns>
    public static PriceCatalog LoadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    /// <summary>Returns a catalog with <paramref name="overrides"/> added or replacing this catalog's prices; its aliases are kept (an alias that becomes a listed id is dropped).</summary>
    /// <param name="overrides">Model id → prices.</param>
    /// <returns>The new catalog.</returns>
    public PriceCatalog With(IEnumerable<KeyValuePair<string, RoutePricing>> overrides) => With(overrides, []);

    /// <summary>Returns a catalog with <paramref name="overrides"/> and <paramref name="aliases"/> added or replacing this catalog's (an existing alias that becomes a listed id is dropped).</summary>
    /// <param name="overrides">Model id → prices.</param>
    /// <param name="aliases">Alias → the listed model id it names.</param>
    /// <returns>The new catalog.</returns>
    public PriceCatalog With(IEnumerable<KeyValuePair<string, RoutePricing>> overrides, IEnumerable<KeyValuePair<string, string>> aliases)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        ArgumentNullException.ThrowIfNull(aliases);
        var merged = new Dictionary<string, RoutePricing>(_prices, StringComparer.OrdinalIgnoreCase);
        foreach (var (model, pricing) in overrides)
        {
            merged[model] = pricing;
        }

        var mergedAliases = new Dictionary<string, string>(_aliases, StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, _) in _aliases)
        {
            if (merged.ContainsKey(alias))
            {
                mergedAliases.Remove(alias);
            }
        }

        foreach (var (alias, model) in aliases)
        {
            mergedAliases[alias] = model;
        }

        return new PriceCatalog(merged, mergedAliases, Currency);
    }

    /// <summary>
    /// Finds the prices of <paramref name="modelId"/>: a listed id or alias, else a dated snapshot of one (a trailing <c>-YYYY-MM-DD</c> or
    /// <c>-YYYYMMDD</c>: <c>gpt-4.1-2025-04-14</c> is priced as <c>gpt-4.1</c>). Any other id is unpriced: <c>o3-pro</c> is not <c>o3</c>.
    /// </summary>
    /// <param name="modelId">The model id; a provider prefix (<c>openai/gpt-4o</c>) is ignored.</param>
    /// <param name="pricing">The prices found.</param>
    /// <returns><see langword="true"/> when found.</returns>
    public bool TryGetPrice(string? modelId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoutePricing? pricing)
    {
        pricing = null;
        if (string.IsNullOrEmpty(modelId))
        {
            return false;
        }

        if (_lookup.TryGetValue(modelId, out pricing))
        {
            return true;
        }

        // Looked up once per route or model (the budget caches the result), so the substrings cost nothing per call.
        int slash = modelId.LastIndexOf('/');
        var id = slash >= 0 ? modelId[(slash + 1)..] : modelId;
        if (slash >= 0 && _lookup.TryGetValue(id, out pricing))
        {
            return true;
        }

        // A snapshot the provider dated is the listed model: exact listings (e.g. a snapshot priced differently) won above.
        int dateLength = DatedSuffixLength(id);
        return dateLength > 0 && _lookup.TryGetValue(id[..^dateLength], out pricing);
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
