using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>Adds a <see cref="SemanticCacheChatClient"/> to a chat pipeline.</summary>
public static class SemanticCacheChatClientBuilderExtensions
{
    /// <summary>Answers repeated and paraphrased questions from a cache; put it first (outermost) so a hit takes no route and costs nothing.</summary>
    /// <param name="builder">The pipeline.</param>
    /// <param name="configure">Changes the options (thresholds, lifetime, size).</param>
    /// <param name="embeddingGenerator">Embeds questions; by default the <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> registered in DI, if any (else exact tier only).</param>
    /// <param name="store">Where entries live; by default an <see cref="ICacheStore"/> from DI, else in memory.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseSemanticCache(
        this ChatClientBuilder builder,
        Action<SemanticCacheOptions>? configure = null,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator = null,
        ICacheStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) =>
        {
            var options = new SemanticCacheOptions();
            configure?.Invoke(options);
            return new SemanticCacheChatClient(
                inner,
                embeddingGenerator ?? services.GetService<IEmbeddingGenerator<string, Embedding<float>>>(),
                store ?? services.GetService<ICacheStore>(),
                options,
                services.GetService<ILoggerFactory>(),
                services.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
                services.GetService<TimeProvider>());
        });
    }
}
