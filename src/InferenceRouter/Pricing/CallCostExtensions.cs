using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Reads the <see cref="CallCost"/> a <see cref="BudgetChatClient"/> (or a router under one) attached to a response.</summary>
public static class CallCostExtensions
{
    /// <summary>The <see cref="AdditionalPropertiesDictionary"/> key the cost is stored under.</summary>
    public const string CostKey = "InferenceRouter.Cost";

    /// <summary>Gets the cost of the call that produced <paramref name="response"/>.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The cost, or <see langword="null"/> when no budget client was in the pipeline.</returns>
    public static CallCost? GetCost(this ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.AdditionalProperties?.TryGetValue(CostKey, out var value) == true ? value as CallCost : null;
    }

    /// <summary>Gets the cost carried by a streaming update (the last one of a budgeted stream).</summary>
    /// <param name="update">The update.</param>
    /// <returns>The cost, or <see langword="null"/>.</returns>
    public static CallCost? GetCost(this ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return update.AdditionalProperties?.TryGetValue(CostKey, out var value) == true ? value as CallCost : null;
    }
}
