using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>What the budget needs to know about where a call goes: route, model, prices, tags, tokenizer and output limit.</summary>
internal sealed class BudgetTarget
{
    public BudgetTarget(string? route, string? modelId, RoutePricing? pricing, IReadOnlyDictionary<string, string> tags, ITokenCounter tokenCounter, int? maxOutputTokens)
    {
        Route = route;
        ModelId = modelId;
        Pricing = pricing;
        Tags = tags;
        TokenCounter = tokenCounter;
        MaxOutputTokens = maxOutputTokens;
        SpendKey = route ?? modelId ?? "(unknown model)";
        UnitPrices = pricing is null ? null : InferenceRouter.UnitPrices.From(pricing);
    }

    /// <summary>Gets the budget this target belongs to (a route may be priced by several budgets).</summary>
    public BudgetManager? Manager { get; init; }

    /// <summary>Gets the prices as whole units per token, when they are (the fast path for estimates and costs).</summary>
    public UnitPrices? UnitPrices { get; }

    /// <summary>
    /// Gets or sets the accounts of the last call on this target: the next call for the same tenant and user in the same windows reuses
    /// them (an immutable array) instead of building them again.
    /// </summary>
    public CachedAccounts? LastAccounts { get; set; }

    /// <summary>Gets or sets the report counter this target's spend goes to (resolved once, not per call).</summary>
    public SpendCounter? SpendCounter { get; set; }

    public string? Route { get; }

    public string? ModelId { get; }

    /// <summary>Gets the prices, or null when unknown.</summary>
    public RoutePricing? Pricing { get; }

    public IReadOnlyDictionary<string, string> Tags { get; }

    public ITokenCounter TokenCounter { get; }

    public int? MaxOutputTokens { get; }

    /// <summary>Gets the name spend is reported under: the route, else the model.</summary>
    public string SpendKey { get; }

    public bool HasTag(string tag)
    {
        int split = tag.IndexOf('=', StringComparison.Ordinal);
        return split > 0 && Tags.TryGetValue(tag[..split], out var value) && string.Equals(value, tag[(split + 1)..], StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Counts output tokens of text the provider reported no usage for.</summary>
    /// <summary>
    /// Prices a call on this target: reported usage where the provider gave it, else tokens counted with the target's tokenizer
    /// (<paramref name="promptTokens"/>, <paramref name="outputText"/>; then <see cref="CallCost.IsEstimated"/>). Unknown prices cost nothing.
    /// </summary>
    public CallCost Price(UsageDetails? usage, long promptTokens, string? outputText, string currency)
    {
        bool estimated = usage?.InputTokenCount is null || usage.OutputTokenCount is null;
        long input = usage?.InputTokenCount ?? promptTokens;
        long output = usage?.OutputTokenCount ?? CountOutputTokens(outputText ?? string.Empty);
        long cached = Math.Clamp(usage?.CachedInputTokenCount ?? 0, 0, input);
        long reasoning = Math.Clamp(usage?.ReasoningTokenCount ?? 0, 0, output);
        decimal amount = UnitPrices?.Cost(input - cached, cached, output - reasoning, reasoning) is { } units
            ? BudgetUnits.ToDecimal(units)
            : Math.Round((Pricing ?? RoutePricing.Free).Estimate(input - cached, output - reasoning, cached, reasoning), BudgetUnits.Decimals, MidpointRounding.AwayFromZero);
        return new CallCost(Route, ModelId, amount, currency, estimated, input, cached, output, reasoning);
    }

    public int CountOutputTokens(string text) => text.Length == 0 ? 0 : Math.Max(TokenCounter.CountTokens(text), 1);

    /// <summary>The accounts a tenant and user's calls reserve in, valid until the first of their windows closes.</summary>
    internal sealed record CachedAccounts(string? Tenant, string? User, DateTimeOffset ValidUntil, BudgetAccount[]? Accounts);
}
