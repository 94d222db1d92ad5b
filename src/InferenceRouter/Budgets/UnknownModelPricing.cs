namespace InferenceRouter;

/// <summary>What the budget does with a model that has no price: neither on its route nor in the price catalog.</summary>
public enum UnknownModelPricing
{
    /// <summary>Refuse the route (the router skips it; without a router the call fails) until a price is configured.</summary>
    Reject,

    /// <summary>Treat the model as free, logging a warning once per model.</summary>
    Free,
}
