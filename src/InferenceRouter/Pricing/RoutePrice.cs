using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>How one route's (or model's) calls are priced: its prices and tokenizer. The one place a call's cost is computed.</summary>
internal sealed class RoutePrice
{
    private readonly bool _readsDetails;

    public RoutePrice(string? route, string? modelId, RoutePricing? pricing, ITokenCounter tokenCounter)
    {
        Route = route;
        ModelId = modelId;
        Pricing = pricing;
        TokenCounter = tokenCounter;
        UnitPrices = pricing is null ? null : InferenceRouter.UnitPrices.From(pricing);
        ChargesAudio = pricing is not null && (pricing.AudioInputPerMillion is not null || pricing.LongContext?.Pricing.AudioInputPerMillion is not null);

        // Only prices that differ from plain input and output need the usage's breakdown: the common case reads none of it.
        _readsDetails = pricing is not null && (Differs(pricing) || (pricing.LongContext is { } longTier && Differs(longTier.Pricing)));
    }

    public string? Route { get; }

    public string? ModelId { get; }

    /// <summary>Gets the prices, or null when unknown.</summary>
    public RoutePricing? Pricing { get; }

    /// <summary>Gets the prices as whole units per token, when they are (the fast path for estimates and costs).</summary>
    public UnitPrices? UnitPrices { get; }

    /// <summary>
    /// Gets a value indicating whether audio input has a price of its own here, so a prompt's audio changes its charge and reservation (an
    /// unset audio price means audio is billed as text, cached audio as cached text).
    /// </summary>
    public bool ChargesAudio { get; }

    public ITokenCounter TokenCounter { get; }

    /// <summary>
    /// Prices a call: reported usage where the provider gave it, else tokens counted with the tokenizer (<paramref name="promptTokens"/>,
    /// <paramref name="outputText"/>; then <see cref="CallCost.IsEstimated"/>). Unknown prices cost nothing.
    /// </summary>
    public CallCost Price(UsageDetails? usage, long promptTokens, string? outputText, string currency, bool promptHasAudio = false) =>
        Price(usage, promptTokens, usage?.OutputTokenCount is null ? CountOutputTokens(outputText ?? string.Empty) : 0, currency, promptHasAudio);

    /// <summary>
    /// Prices a call whose output, if the provider reported none, was counted already (<paramref name="countedOutputTokens"/>). The prices
    /// are the long-context tier's when the billed prompt is longer than its threshold; a prompt that held audio
    /// (<paramref name="promptHasAudio"/>) and whose usage does not count its audio is charged all its input at the audio price.
    /// </summary>
    public CallCost Price(UsageDetails? usage, long promptTokens, long countedOutputTokens, string currency, bool promptHasAudio = false)
    {
        bool estimated = usage?.InputTokenCount is null || usage.OutputTokenCount is null;
        long input = usage?.InputTokenCount ?? promptTokens;
        long output = usage?.OutputTokenCount ?? countedOutputTokens;
        var pricing = (Pricing ?? RoutePricing.Free).For(input);
        var tokens = BilledTokens.Split(usage, input, output, _readsDetails, promptHasAudio, pricing);
        decimal amount = UnitPrices?.For(input).Cost(tokens) is { } units
            ? BudgetUnits.ToDecimal(units)
            : Math.Round(pricing.Cost(tokens), BudgetUnits.Decimals, MidpointRounding.ToPositiveInfinity); // up: never below the invoice
        long cached = Math.Clamp(usage?.CachedInputTokenCount ?? 0, 0, input);
        return new CallCost(Route, ModelId, amount, currency, estimated, input, cached, output, tokens.Reasoning);
    }

    /// <summary>
    /// The most a call of at most <paramref name="promptTokens"/> prompt tokens (<paramref name="promptHasAudio"/>: it may hold audio) and
    /// <paramref name="maxOutput"/> output tokens can be charged: every token at its dearest price (<see cref="UnitPrices.Reserve"/>), rounded up.
    /// </summary>
    public decimal Reserve(long promptTokens, bool promptHasAudio, long maxOutput)
    {
        bool audio = promptHasAudio && ChargesAudio;
        return UnitPrices?.Reserve(promptTokens, audio, maxOutput) is { } units
            ? BudgetUnits.ToDecimal(units)
            : Math.Round(MostDecimal(Pricing ?? RoutePricing.Free, promptTokens, audio, maxOutput), BudgetUnits.Decimals, MidpointRounding.ToPositiveInfinity);

        static decimal MostDecimal(RoutePricing pricing, long promptTokens, bool audio, long maxOutput)
        {
            decimal most = ((promptTokens * pricing.MostPerPromptToken(audio)) + (maxOutput * pricing.MostPerOutputToken)) / 1_000_000m;
            return pricing.LongContext is { } tier && promptTokens > tier.AbovePromptTokens ? Math.Max(most, MostDecimal(tier.Pricing, promptTokens, audio, maxOutput)) : most;
        }
    }

    /// <summary>Counts output tokens of text the provider reported no usage for.</summary>
    public int CountOutputTokens(string text) => text.Length == 0 ? 0 : Math.Max(TokenCounter.CountTokens(text), 1);

    /// <summary>Whether a prompt may hold audio: an audio item, or one whose kind is not known (it may be audio).</summary>
    public static bool MayHoldAudio(in PromptMedia media) => (media.Audio | media.Other) != 0;

    private static bool Differs(RoutePricing pricing) =>
        pricing.EffectiveCacheWritePerMillion != pricing.InputPerMillion || pricing.EffectiveAudioInputPerMillion != pricing.InputPerMillion ||
        pricing.EffectiveAudioOutputPerMillion != pricing.OutputPerMillion;
}
