namespace InferenceRouter;

/// <summary>
/// Ranks routes by quality tier: first the cheapest tier the call's <see cref="QualityPrediction"/> says clears the bar, then stronger
/// tiers (failover escalates), then weaker ones, then routes without a tier. Within a tier, registration order.
/// </summary>
/// <remarks>
/// The prediction comes from <see cref="RoutingHints.Quality"/> (set by <see cref="QualityChatClient"/>, which embeds the prompt). Without
/// one, the ranker predicts from the prompt's text alone (the prior, plus the tier means recorded). Tiers whose routes were all
/// excluded are skipped when choosing, so a call never waits on a tier it cannot use. Thread-safe.
/// </remarks>
internal sealed class QualityRanker : IRoutingPolicy
{
    private readonly QualityPredictor _predictor;

    /// <summary>Creates the ranker.</summary>
    /// <param name="predictor">Predicts when a call arrives without a prediction.</param>
    public QualityRanker(QualityPredictor predictor)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        _predictor = predictor;
    }

    /// <inheritdoc/>
    public string Name => RoutingPolicies.Quality;

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var prediction = selection.Hints.Quality ?? _predictor.Predict(QualityPredictor.PromptOf(selection.Messages), default);
        int tiers = prediction.Quality.Count;
        Span<bool> available = stackalloc bool[tiers];
        for (int i = 0; i < selection.Count; i++)
        {
            if (!selection.IsExcluded(i) && selection.Routes[i].Descriptor.QualityTier is { } tier && tier < tiers)
            {
                available[tier] = true;
            }
        }

        int chosen = prediction.ChooseTier(available);
        for (int i = 0; i < selection.Count; i++)
        {
            if (selection.IsExcluded(i))
            {
                continue;
            }

            int? routeTier = selection.Routes[i].Descriptor.QualityTier;
            double score = routeTier is not { } t || t >= tiers || chosen < 0 ? 2 * tiers : t >= chosen ? t - chosen : tiers + chosen - t;
            if (selection.IsExplaining)
            {
                selection.SetScore(i, this, score, Reason(prediction, routeTier, chosen));
            }
            else
            {
                selection.SetScore(i, this, score);
            }
        }
    }

    private static string Reason(QualityPrediction prediction, int? tier, int chosen) => tier switch
    {
        null => "no quality tier",
        { } t when t == chosen => $"tier {t} chosen: {prediction}",
        { } t when t < chosen => $"tier {t} gains {prediction.GainOver(t):F3} > threshold {prediction.Threshold:F3}; tried after stronger tiers",
        { } t => $"tier {t} is stronger than needed; tried if tier {chosen} fails",
    };
}
