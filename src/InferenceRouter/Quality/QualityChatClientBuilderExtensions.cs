using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceRouter;

/// <summary>Adds a <see cref="QualityChatClient"/> to a chat pipeline.</summary>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public static class QualityChatClientBuilderExtensions
{
    /// <summary>Routes each call to the cheapest quality tier predicted to clear the bar; add it after the cache and budgets (innermost).</summary>
    /// <param name="builder">The pipeline.</param>
    /// <param name="predictor">The predictor; by default the one <c>AddQualityRouting()</c> registered.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseQualityRouting(this ChatClientBuilder builder, QualityPredictor? predictor = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) => new QualityChatClient(
            inner,
            predictor ?? services.GetService<QualityPredictor>()
                ?? throw new InvalidOperationException("UseQualityRouting found no QualityPredictor: call AddQualityRouting() on the router builder, or pass a predictor.")));
    }
}
