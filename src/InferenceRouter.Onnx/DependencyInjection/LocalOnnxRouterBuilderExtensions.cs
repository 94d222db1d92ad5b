using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>Adds on-device ONNX Runtime GenAI routes to the router registered by <c>AddInferenceRouter</c>.</summary>
public static class LocalOnnxRouterBuilderExtensions
{
    /// <summary>The configuration section (under the router's) holding local models by route name.</summary>
    public const string SectionName = "LocalModels";

    /// <summary>
    /// Adds a local route named <paramref name="name"/> served by a <see cref="LocalOnnxChatClient"/>; options come from
    /// <c>InferenceRouter:LocalModels:{name}</c> when present, then <paramref name="configure"/>.
    /// </summary>
    /// <param name="builder">The router's builder.</param>
    /// <param name="name">The route's name.</param>
    /// <param name="configure">Sets or changes options (model path, provider, limits).</param>
    /// <param name="describe">Changes the route's descriptor (tags, capabilities, weight); it stays local and free unless you say otherwise.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid (checked now, at startup), naming the setting.</exception>
    public static InferenceRouterBuilder AddLocalOnnxRoute(this InferenceRouterBuilder builder, string name, Action<LocalOnnxOptions>? configure = null, Func<RouteDescriptor, RouteDescriptor>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.DeclareSettings<Dictionary<string, LocalOnnxOptions>>(SectionName);
        var options = new LocalOnnxOptions();
        builder.Configuration?.GetSection(SectionName).GetSection(name).Bind(options);
        configure?.Invoke(options);
        var errors = options.GetValidationErrors($"InferenceRouter:{SectionName}:{name}").ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Local route '{name}': {string.Join(" ", errors)}", nameof(configure));
        }

        var modelId = options.ModelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelPath)));
        var descriptor = new RouteDescriptor(name)
        {
            Provider = "onnxruntime-genai",
            ModelId = modelId,
            IsLocal = true,
            Pricing = RoutePricing.Free,
            Capabilities = RouteCapabilities.Streaming,
            ContextWindow = LocalModel.ReadContextLength(Path.GetFullPath(options.ModelPath)),
            TokenCounter = TokenCounters.UpperBound,
            RequireFinishReason = true, // every answer ends with one: a stream that stops short was cut off
        };

        builder.Services.AddKeyedSingleton(name, (services, _) => new LocalOnnxChatClient(options, services.GetService<ILoggerFactory>()));
        if (options.WarmUpOnStart)
        {
            builder.Services.AddSingleton<IHostedService>(services => new LocalModelWarmUp(services.GetRequiredKeyedService<LocalOnnxChatClient>(name)));
        }

        return builder.AddRoute(describe?.Invoke(descriptor) ?? descriptor, services => services.GetRequiredKeyedService<LocalOnnxChatClient>(name));
    }

    /// <summary>Adds a local route for every entry under <c>InferenceRouter:LocalModels</c> (the entry's key is the route's name).</summary>
    /// <param name="builder">The router's builder.</param>
    /// <returns>The builder.</returns>
    public static InferenceRouterBuilder AddLocalOnnxRoutes(this InferenceRouterBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var entry in builder.Configuration?.GetSection(SectionName).GetChildren() ?? [])
        {
            builder.AddLocalOnnxRoute(entry.Key);
        }

        return builder;
    }

    /// <summary>Loads a local model when the host starts; a failure is logged by the client and leaves the route to the router's failover.</summary>
    private sealed class LocalModelWarmUp(LocalOnnxChatClient client) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await client.WarmUpAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (LocalModelLoadException)
            {
                // Already logged; the app starts, and calls fail over until the model can be loaded.
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
