namespace InferenceRouter;

/// <summary>What the model catalog knows about one model; every field is <see langword="null"/> when the catalog does not know it.</summary>
/// <remarks>Immutable. A route's own <see cref="RouteDescriptor"/> values always win over these.</remarks>
public sealed class ModelInfo
{
    /// <summary>Gets the model's list prices.</summary>
    public RoutePricing? Pricing { get; init; }

    /// <summary>Gets the context window in tokens (prompt plus output).</summary>
    public int? ContextWindow { get; init; }

    /// <summary>Gets the most output tokens the model produces in one call.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>Gets the most input tokens one image is billed on this model.</summary>
    public int? MaxImageTokens { get; init; }

    /// <summary>Gets everything the model can do (the whole list), or <see langword="null"/> when unknown.</summary>
    public RouteCapabilities? Capabilities { get; init; }
}
