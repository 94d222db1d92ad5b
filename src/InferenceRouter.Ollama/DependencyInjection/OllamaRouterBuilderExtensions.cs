namespace InferenceRouter;

/// <summary>Registers the Ollama provider: routes with <c>"Provider": "Ollama"</c>.</summary>
public static class OllamaRouterBuilderExtensions
{
    /// <summary>
    /// Registers the provider. An app that references this package finds it without this call (<see cref="InferenceRouterBuilder.DiscoverProviders"/>);
    /// a trimmed or AOT app calls it, so the provider is kept.
    /// </summary>
    /// <param name="builder">The router's builder.</param>
    /// <returns>The builder.</returns>
    public static InferenceRouterBuilder AddOllamaProvider(this InferenceRouterBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddProvider(new OllamaRouteProvider());
    }
}
