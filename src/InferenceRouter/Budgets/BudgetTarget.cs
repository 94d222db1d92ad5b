using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>What the budget needs to know about where a call goes: route, model, prices, tags, tokenizer and output limit.</summary>
internal sealed class BudgetTarget
{
    public BudgetTarget(string? route, string? modelId, RoutePricing? pricing, IReadOnlyDictionary<string, string> tags, ITokenCounter tokenCounter, int? maxOutputTokens, int outputWhenUnset = 4096)
    {
        OutputWhenUnset = outputWhenUnset;
        Prices = new RoutePrice(route, modelId, pricing, tokenCounter);
        Tags = tags;
        MaxOutputTokens = maxOutputTokens;
        SpendKey = route ?? modelId ?? "(unknown model)";
    }

    /// <summary>Gets how the target's calls are priced.</summary>
    public RoutePrice Prices { get; }

    /// <summary>Gets the budget this target belongs to (a route may be priced by several budgets).</summary>
    public BudgetManager? Manager { get; init; }

    /// <summary>Gets the prices as whole units per token, when they are (the fast path for estimates and costs).</summary>
    public UnitPrices? UnitPrices => Prices.UnitPrices;

    /// <summary>
    /// Gets or sets the accounts of the last call on this target: the next call for the same tenant and user in the same windows reuses
    /// them (an immutable array) instead of building them again.
    /// </summary>
    public CachedAccounts? LastAccounts { get; set; }

    /// <summary>Gets or sets the report counter this target's spend goes to (resolved once, not per call).</summary>
    public SpendCounter? SpendCounter { get; set; }

    public string? Route => Prices.Route;

    public string? ModelId => Prices.ModelId;

    /// <summary>Gets the prices, or null when unknown.</summary>
    public RoutePricing? Pricing => Prices.Pricing;

    public IReadOnlyDictionary<string, string> Tags { get; }

    public ITokenCounter TokenCounter => Prices.TokenCounter;

    public int? MaxOutputTokens { get; }

    /// <summary>Gets the output limit reserved for (and sent) when a call sets none.</summary>
    public int OutputWhenUnset { get; }

    /// <summary>
    /// Gets the rule the target's client holds a raw request (<see cref="ChatOptions.RawRepresentationFactory"/>) to the output limit it is sent
    /// with and measures what input it carries (<see cref="IRawRequestOutputLimiter"/>); null when it has none: the raw request's own limit may
    /// win, and its input is bounded only by the context window.
    /// </summary>
    public IRawRequestOutputLimiter? RawRequestLimiter { get; init; }

    /// <summary>Gets the target's context window (prompt plus output), when known: all a raw request the budget cannot measure can be billed.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>Gets the most input tokens one image is billed on the target's model (the catalog's figure), or null for the budget's <see cref="MediaTokenBounds.Image"/>.</summary>
    public int? MaxImageTokens { get; init; }

    /// <summary>Gets the name spend is reported under: the route, else the model.</summary>
    public string SpendKey { get; }

    public bool HasTag(string tag)
    {
        int split = tag.IndexOf('=', StringComparison.Ordinal);
        return split > 0 && Tags.TryGetValue(tag[..split], out var value) && string.Equals(value, tag[(split + 1)..], StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Prices a call on this target (<see cref="RoutePrice.Price(Microsoft.Extensions.AI.UsageDetails?, long, string?, string, bool)"/>).</summary>
    public CallCost Price(UsageDetails? usage, long promptTokens, string? outputText, string currency, bool promptHasAudio = false) => Prices.Price(usage, promptTokens, outputText, currency, promptHasAudio);

    public int CountOutputTokens(string text) => Prices.CountOutputTokens(text);

    /// <summary>The accounts a tenant and user's calls reserve in, valid until the first of their windows closes.</summary>
    internal sealed record CachedAccounts(string? Tenant, string? User, DateTimeOffset ValidUntil, BudgetAccount[]? Accounts);
}
