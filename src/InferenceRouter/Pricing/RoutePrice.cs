using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>How one route's (or model's) calls are priced: its prices and tokenizer. The one place a call's cost is computed.</summary>
internal sealed class RoutePrice
{
    public RoutePrice(string? route, string? modelId, RoutePricing? pricing, ITokenCounter tokenCounter)
    {
        Route = route;
        ModelId = modelId;
        Pricing = pricing;
        TokenCounter = tokenCounter;
        UnitPrices = pricing is null ? null : InferenceRouter.UnitPrices.From(pricing);
    }

    public string? Route { get; }

    public string? ModelId { get; }

    /// <summary>Gets the prices, or null when unknown.</summary>
    public RoutePricing? Pricing { get; }

    /// <summary>Gets the prices as whole units per token, when they are (the fast path for estimates and costs).</summary>
    public UnitPrices? UnitPrices { get; }

    public ITokenCounter TokenCounter { get; }

    /// <summary>
    /// Prices a call: reported usage where the provider gave it, else tokens counted with the tokenizer (<paramref name="promptTokens"/>,
    /// <paramref name="outputText"/>; then <see cref="CallCost.IsEstimated"/>). Unknown prices cost nothing.
    /// </summary>
    public CallCost Price(UsageDetails? usage, long promptTokens, string? outputText, string currency) =>
        Price(usage, promptTokens, usage?.OutputTokenCount is null ? CountOutputTokens(outputText ?? string.Empty) : 0, currency);

    /// <summary>Prices a call whose output, if the provider reported none, was counted already (<paramref name="countedOutputTokens"/>).</summary>
    public CallCost Price(UsageDetails? usage, long promptTokens, long countedOutputTokens, string currency)
    {
        bool estimated = usage?.InputTokenCount is null || usage.OutputTokenCount is null;
        long input = usage?.InputTokenCount ?? promptTokens;
        long output = usage?.OutputTokenCount ?? countedOutputTokens;
        long cached = Math.Clamp(usage?.CachedInputTokenCount ?? 0, 0, input);
        long reasoning = Math.Clamp(usage?.ReasoningTokenCount ?? 0, 0, output);
        decimal amount = UnitPrices?.Cost(input - cached, cached, output - reasoning, reasoning) is { } units
            ? BudgetUnits.ToDecimal(units)
            : Math.Round((Pricing ?? RoutePricing.Free).Estimate(input - cached, output - reasoning, cached, reasoning), BudgetUnits.Decimals, MidpointRounding.AwayFromZero);
        return new CallCost(Route, ModelId, amount, currency, estimated, input, cached, output, reasoning);
    }

    /// <summary>Counts output tokens of text the provider reported no usage for.</summary>
    public int CountOutputTokens(string text) => text.Length == 0 ? 0 : Math.Max(TokenCounter.CountTokens(text), 1);
}
