namespace InferenceRouter;

/// <summary>What one call cost: the amount charged to the budget and the tokens it was computed from.</summary>
/// <remarks>Read it with <see cref="CallCostExtensions.GetCost(Microsoft.Extensions.AI.ChatResponse)"/>; for streams it rides on the last update.</remarks>
public sealed class CallCost
{
    internal CallCost(string? route, string? modelId, decimal amount, string currency, bool isEstimated, long inputTokens, long cachedInputTokens, long outputTokens, long reasoningTokens)
    {
        Route = route;
        ModelId = modelId;
        Amount = amount;
        Currency = currency;
        IsEstimated = isEstimated;
        InputTokens = inputTokens;
        CachedInputTokens = cachedInputTokens;
        OutputTokens = outputTokens;
        ReasoningTokens = reasoningTokens;
    }

    /// <summary>Gets the route that answered; null without a router.</summary>
    public string? Route { get; }

    /// <summary>Gets the model whose prices were applied.</summary>
    public string? ModelId { get; }

    /// <summary>Gets the amount charged, rounded to the ledger's precision (10 decimal places).</summary>
    public decimal Amount { get; }

    /// <summary>Gets the currency of <see cref="Amount"/>.</summary>
    public string Currency { get; }

    /// <summary>
    /// Gets a value indicating whether the amount is an estimate: the provider reported no usage, so tokens were counted with the route's
    /// tokenizer, or the call ended before it answered in full and was charged what it may have been billed (docs/budgets.md).
    /// </summary>
    public bool IsEstimated { get; }

    /// <summary>Gets the input tokens, cached ones included.</summary>
    public long InputTokens { get; }

    /// <summary>Gets the input tokens served from the provider's prompt cache.</summary>
    public long CachedInputTokens { get; }

    /// <summary>Gets the output tokens, reasoning ones included.</summary>
    public long OutputTokens { get; }

    /// <summary>Gets the reasoning tokens.</summary>
    public long ReasoningTokens { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Amount:0.##########} {Currency} ({InputTokens} in, {OutputTokens} out{(IsEstimated ? ", estimated" : string.Empty)})";
}
