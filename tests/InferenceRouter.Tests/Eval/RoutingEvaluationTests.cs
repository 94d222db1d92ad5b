using InferenceRouter.Eval;

namespace InferenceRouter.Tests.Eval;

/// <summary>The routing evaluation's metrics and splits (the tool behind quality-aware routing's figures).</summary>
public class RoutingEvaluationTests
{
    private static readonly List<RoutingExample> Examples = [.. Enumerable.Range(0, 400).Select(i => new RoutingExample(
        $"question {i}", WeakCorrect: i % 4 != 0, StrongCorrect: i % 4 != 0 || i % 8 == 0, Subject: $"subject-{i % 5}"))];

    [Fact]
    public void An_oracle_recovers_the_gap_with_the_fewest_strong_calls_and_a_random_router_scores_about_half()
    {
        var oracle = RoutingMetrics.Measure(Examples, [.. Examples.Select(e => (double)e.Gain)]);
        var inverse = RoutingMetrics.Measure(Examples, [.. Examples.Select(e => (double)-e.Gain)]);
        var random = new Random(3);
        var runs = RoutingMetrics.Mean([.. Enumerable.Range(0, 50).Select(_ => RoutingMetrics.Measure(Examples, [.. Examples.Select(_ => random.NextDouble())]))]);

        // 50 of 400 prompts gain from the strong model: sending exactly those recovers the whole gap.
        oracle.Cpt80.Should().BeApproximately(40 / 400.0, 1e-9);
        oracle.Apgr.Should().BeGreaterThan(0.9);
        inverse.Apgr.Should().BeLessThan(0.1);
        runs.Apgr.Should().BeApproximately(0.5, 0.05);
        runs.Cpt50.Should().BeApproximately(0.5, 0.08);
    }

    [Fact]
    public void Cold_splits_keep_subjects_apart_and_warm_splits_put_every_subject_on_both_sides()
    {
        var (coldTrain, coldTest) = RoutingEvaluation.Split(Examples, "cold", seed: 1);
        coldTrain.Select(e => e.Subject).Intersect(coldTest.Select(e => e.Subject)).Should().BeEmpty();
        (coldTrain.Count + coldTest.Count).Should().Be(Examples.Count);

        var (warmTrain, warmTest) = RoutingEvaluation.Split(Examples, "warm", seed: 1);
        warmTrain.Select(e => e.Subject).Distinct().Should().BeEquivalentTo(warmTest.Select(e => e.Subject).Distinct());
        warmTrain.Select(e => e.Prompt).Intersect(warmTest.Select(e => e.Prompt)).Should().BeEmpty();

        FluentActions.Invoking(() => RoutingEvaluation.Split(Examples, "lukewarm", 1)).Should().Throw<ArgumentException>().WithMessage("*warm or cold*");
    }

    [Fact]
    public void Csvs_are_read_and_contaminated_prompts_beside_them_dropped()
    {
        var folder = Directory.CreateTempSubdirectory();
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "mmlu_x.csv"), "prompt,weak,strong\n\"Q1\nA. a\nAnswer:\",True,False\nQ2,False,True\nQ3,True,True\n");
            File.WriteAllText(Path.Combine(folder.FullName, "contaminated_prompts.jsonl"), "{\"train_prompt\":\"x\",\"eval_prompt\":\"Q3\"}\n");

            var examples = RoutingDataset.Load([folder.FullName]);

            examples.Select(e => (e.Prompt, e.Gain, e.Subject)).Should().Equal(("Q1\nA. a\nAnswer:", -1, "mmlu_x"), ("Q2", 1, "mmlu_x"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
