namespace InferenceRouter;

/// <summary>What calls answered by one route (or model, without a router) cost since the budget started.</summary>
/// <param name="Route">The route, or the model id without a router.</param>
/// <param name="Calls">Calls settled.</param>
/// <param name="InputTokens">Input tokens.</param>
/// <param name="OutputTokens">Output tokens.</param>
/// <param name="Cost">Total cost.</param>
/// <param name="AverageLatency">Mean time from reservation to settlement (the whole call or stream).</param>
public sealed record RouteSpend(string Route, long Calls, long InputTokens, long OutputTokens, decimal Cost, TimeSpan AverageLatency)
{
    /// <summary>Gets the cost per one million tokens (input and output together); zero without tokens.</summary>
    public decimal CostPerMillionTokens => InputTokens + OutputTokens == 0 ? 0 : Cost * 1_000_000m / (InputTokens + OutputTokens);
}
