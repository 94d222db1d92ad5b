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

    /// <inheritdoc/>
    internal override IEnumerable<string> GetValidationErrors()
    {
        foreach (var error in base.GetValidationErrors())
        {
            yield return error;
        }

        for (int i = 0; i < Routes.Count; i++)
        {
            foreach (var error in Routes[i].GetValidationErrors($"Routes:{i}"))
            {
                yield return error;
            }
        }
    }
}
