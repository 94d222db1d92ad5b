using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace InferenceRouter;

/// <summary>Registers quality-aware routing with the router.</summary>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public static class QualityRoutingBuilderExtensions
{
    /// <summary>
    /// Registers a <see cref="QualityPredictor"/> singleton (options from the <c>Quality</c> section, validated at start; prompts embedded
    /// with the <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> in DI, if any) and the <c>quality</c> policy. Add
    /// <see cref="QualityChatClientBuilderExtensions.UseQualityRouting"/> to the pipeline so calls carry a prediction.
    /// </summary>
    /// <param name="builder">The router builder.</param>
    /// <param name="configure">Changes the options after configuration is bound.</param>
    /// <returns>The builder.</returns>
    public static InferenceRouterBuilder AddQualityRouting(this InferenceRouterBuilder builder, Action<QualityPredictorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.DeclareSettings<QualityPredictorOptions>(QualityPredictorOptions.SectionName);
        var options = builder.Services.AddOptions<QualityPredictorOptions>();
        if (builder.Configuration is { } configuration)
        {
            options.Bind(configuration.GetSection(QualityPredictorOptions.SectionName));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QualityPredictorOptions>, QualityPredictorOptionsValidator>());
        builder.Services.TryAddSingleton(sp => new QualityPredictor(
            sp.GetRequiredService<IOptions<QualityPredictorOptions>>().Value,
            sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>(),
            sp.GetService<ILogger<QualityPredictor>>(),
            prior: null,
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.AddPolicy(sp => RoutingPolicies.CreateQuality(
            sp.GetRequiredService<QualityPredictor>(),
            sp.GetRequiredService<IOptions<InferenceRouterOptions>>().Value.LatencyExplorationRate));
        return builder;
    }
}
