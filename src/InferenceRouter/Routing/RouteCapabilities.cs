namespace InferenceRouter;

/// <summary>
/// What a route's model can do. A request that needs a capability skips routes that declare their capabilities without it; routes that
/// declare none (<see cref="RouteDescriptor.Capabilities"/> null) are unknown and stay candidates.
/// </summary>
[Flags]
public enum RouteCapabilities
{
    /// <summary>Plain text chat only.</summary>
    None = 0,

    /// <summary>Tool (function) calling.</summary>
    Tools = 1,

    /// <summary>Image inputs.</summary>
    Images = 2,

    /// <summary>Structured output constrained by a JSON schema.</summary>
    JsonSchema = 4,

    /// <summary>Streaming responses.</summary>
    Streaming = 8,

    /// <summary>
    /// Reasoning at a requested effort (<c>ChatOptions.Reasoning</c> with an effort other than <c>None</c>): o-series, GPT-5, Claude with
    /// extended thinking, Gemini 2.5. A model without it rejects the parameter.
    /// </summary>
    Reasoning = 16,

    /// <summary>Every capability above.</summary>
    All = Tools | Images | JsonSchema | Streaming | Reasoning,
}
