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
    }

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
    public int CountOutputTokens(string text) => text.Length == 0 ? 0 : Math.Max(TokenCounter.CountTokens(text), 1);
}
