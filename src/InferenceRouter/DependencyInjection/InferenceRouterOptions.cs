namespace InferenceRouter;

/// <summary>The router's options as bound from configuration: <see cref="RouterOptions"/> plus the routes defined there.</summary>
/// <example>
/// <code>
/// "InferenceRouter": {
///   "DefaultPolicy": "lowest-latency",
///   "AttemptTimeout": "00:01:00",
///   "Routes": [
///     { "Name": "openai-mini", "Provider": "OpenAI", "Model": "gpt-4.1-mini", "InputPricePerMillion": 0.4, "OutputPricePerMillion": 1.6 },
///     { "Name": "together-llama", "Provider": "OpenAICompatible", "Endpoint": "https://api.together.xyz/v1",
///       "ApiKeyEnvironmentVariable": "TOGETHER_API_KEY", "Model": "meta-llama/Llama-3.3-70B-Instruct-Turbo" }
///   ]
/// }
/// </code>
/// </example>
public sealed class InferenceRouterOptions : RouterOptions
{
    /// <summary>The configuration section read by default.</summary>
    public const string SectionName = "InferenceRouter";

    /// <summary>Gets the routes defined in configuration, in priority order (they come before routes added in code).</summary>
    public List<RouteOptions> Routes { get; } = [];

    /// <summary>Gets where the model catalog comes from (<c>InferenceRouter:ModelCatalog</c>): what routes that declare only a provider and a model know about it.</summary>
    public ModelCatalogOptions ModelCatalog { get; } = new();

    /// <inheritdoc/>
    /// <remarks>
    /// Routes are checked for the settings every provider shares; their provider's own checks (its key, its endpoint) and whether it is
    /// available run at startup (<c>ValidateOnStart</c>), against the providers registered there.
    /// </remarks>
    internal override IEnumerable<string> GetValidationErrors() => GetValidationErrors(providers: null);

    /// <summary>Checks the options, and the routes against <paramref name="providers"/> (null to skip the providers' checks).</summary>
    internal IEnumerable<string> GetValidationErrors(RouteProviderRegistry? providers)
    {
        foreach (var error in base.GetValidationErrors())
        {
            yield return error;
        }

        foreach (var error in ModelCatalog.GetValidationErrors(SectionName))
        {
            yield return error;
        }

        for (int i = 0; i < Routes.Count; i++)
        {
            foreach (var error in Routes[i].GetValidationErrors($"Routes:{i}", providers))
            {
                yield return error;
            }
        }
    }
}
