namespace InferenceRouter;

/// <summary>What the budget does with a model that has no price: neither on its route nor in the price catalog.</summary>
public enum UnknownModelPricing
{
    /// <summary>
    /// Refuse it: over a router, the budget refuses to start with a route it cannot price (naming the route, its model and the ways to
    /// price it); without a router, a call whose model has no price fails.
    /// </summary>
    Reject,

    /// <summary>Treat the model as free, logging a warning once per model.</summary>
    Free,
}
