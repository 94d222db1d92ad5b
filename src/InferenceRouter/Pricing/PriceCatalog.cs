using System.Collections.Frozen;
using System.Text.Json;

namespace InferenceRouter;

/// <summary>Prices per model id. Immutable; lookups are exact (case-insensitive), then by the longest known prefix, so dated versions such as <c>gpt-4o-mini-2024-07-18</c> find <c>gpt-4o-mini</c>.</summary>
/// <remarks>
/// <see cref="Default"/> ships with the package (list prices of common models; see <c>docs/budgets.md</c> for the date). A route's own
/// <see cref="RouteDescriptor.Pricing"/> always wins over the catalog. Thread-safe.
/// </remarks>
public sealed class PriceCatalog
{
    private readonly FrozenDictionary<string, RoutePricing> _prices;

    /// <summary>Creates a catalog.</summary>
    /// <param name="prices">Model id → prices.</param>
    /// <param name="currency">The currency of every price (ISO 4217).</param>
    /// <exception cref="ArgumentException">A model id is empty or a price is negative.</exception>
    public PriceCatalog(IEnumerable<KeyValuePair<string, RoutePricing>> prices, string currency = "USD")
    {
        ArgumentNullException.ThrowIfNull(prices);
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

        _prices = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
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

    private static readonly Lazy<PriceCatalog> s_default = new(() =>
    {
        using var stream = typeof(PriceCatalog).Assembly.GetManifestResourceStream("InferenceRouter.Budgets.default-prices.json")
            ?? throw new InvalidOperationException("The default price catalog is missing from the InferenceRouter assembly.");
        return Load(stream);
    });

    /// <summary>Reads a catalog from JSON: <c>{ "currency": "USD", "models": { "model-id": { "inputPerMillion": 1, "outputPerMillion": 2 } } }</c>.</summary>
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

        return new PriceCatalog(document.Models.Select(p => KeyValuePair.Create(p.Key, p.Value.ToPricing())), document.Currency ?? "USD");
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

    /// <summary>Returns a catalog with <paramref name="overrides"/> added or replacing this catalog's prices.</summary>
    /// <param name="overrides">Model id → prices.</param>
    /// <returns>The new catalog.</returns>
    public PriceCatalog With(IEnumerable<KeyValuePair<string, RoutePricing>> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var merged = new Dictionary<string, RoutePricing>(_prices, StringComparer.OrdinalIgnoreCase);
        foreach (var (model, pricing) in overrides)
        {
            merged[model] = pricing;
        }

        return new PriceCatalog(merged, Currency);
    }

    /// <summary>Finds the prices of <paramref name="modelId"/>: an exact match, else the longest catalog id it starts with followed by <c>-</c>.</summary>
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

        if (_prices.TryGetValue(modelId, out pricing))
        {
            return true;
        }

        int slash = modelId.LastIndexOf('/');
        var id = slash >= 0 ? modelId[(slash + 1)..] : modelId;
        if (slash >= 0 && _prices.TryGetValue(id, out pricing))
        {
            return true;
        }

        // Longest prefix ending at a '-' boundary: gpt-4o-mini-2024-07-18 → gpt-4o-mini, never gpt-4o.
        for (int cut = id.LastIndexOf('-'); cut > 0; cut = id.LastIndexOf('-', cut - 1))
        {
            if (_prices.TryGetValue(id[..cut], out pricing))
            {
                return true;
            }
        }

        return false;
    }
}
