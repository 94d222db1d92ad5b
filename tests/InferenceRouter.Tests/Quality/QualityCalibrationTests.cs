using InferenceRouter.Eval;

namespace InferenceRouter.Tests.Quality;

/// <summary>The bar, calibrated on recorded outcomes, holds on rows the predictor never saw (RouteLLM's labelled MMLU subjects).</summary>
public class QualityCalibrationTests
{
    private const string Data = "data/routing/mmlu";

    private static (List<RoutingExample> Train, List<RoutingExample> Test) Split() =>
        RoutingEvaluation.Split(RoutingDataset.Load([Path.Combine(SharedFiles.Root!, Data)]), "warm", seed: 1);

    private static QualityPredictor Trained(QualityPredictorOptions options, List<RoutingExample> train)
    {
        var predictor = new QualityPredictor(options);
        foreach (var example in train)
        {
            predictor.RecordOutcome(example.Prompt, default, 0, example.WeakCorrect ? 1 : 0);
            predictor.RecordOutcome(example.Prompt, default, 1, example.StrongCorrect ? 1 : 0);
        }

        return predictor;
    }

    [SharedFact(Data)]
    public void A_strong_share_bar_sends_that_share_of_held_out_calls_to_the_strong_tier()
    {
        var (train, test) = Split();
        foreach (var share in new[] { 0.1, 0.25, 0.5 })
        {
            using var predictor = Trained(new QualityPredictorOptions { StrongShare = share }, train);

            double strong = test.Average(e => predictor.Predict(e.Prompt, default).ChosenTier);

            strong.Should().BeApproximately(share, 0.04, "the threshold is the {0} quantile of predicted gains on recorded prompts", 1 - share);
        }
    }

    [SharedFact(Data)]
    public void A_higher_keep_quality_bar_buys_more_strong_calls_and_keeps_more_quality_on_held_out_rows()
    {
        var (train, test) = Split();
        var results = new[] { 0.9, 0.97, 1.0 }.Select(keep =>
        {
            using var predictor = Trained(new QualityPredictorOptions { KeepQuality = keep }, train);
            var tiers = test.Select(e => predictor.Predict(e.Prompt, default).ChosenTier).ToList();
            double correct = test.Select((e, i) => tiers[i] == 1 ? e.StrongCorrect : e.WeakCorrect).Average(c => c ? 1.0 : 0);
            return (Keep: keep, Strong: tiers.Average(), Correct: correct);
        }).ToList();

        results.Select(r => r.Strong).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        results.Select(r => r.Correct).Should().BeInAscendingOrder();
        results[0].Strong.Should().BeLessThan(0.9, "keeping 90% of quality must not need the strong tier for everything");
    }
}
