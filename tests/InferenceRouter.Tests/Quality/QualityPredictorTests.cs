using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace InferenceRouter.Tests.Quality;

/// <summary>The quality predictor on synthetic prompt vectors: learning, saving, loading, refusing bad state, validating input.</summary>
public class QualityPredictorTests
{
    private const int Dimensions = 32;

    /// <summary>A unit vector near one of a few topic directions, as an embedding model gives for prompts on one topic.</summary>
    private static float[] Topic(int topic, Random random, double noise = 0.1)
    {
        var vector = new float[Dimensions];
        vector[topic] = 1;
        for (int i = 0; i < Dimensions; i++)
        {
            vector[i] += (float)(random.NextDouble() * noise);
        }

        float norm = MathF.Sqrt(vector.Sum(v => v * v));
        return [.. vector.Select(v => v / norm)];
    }

    private static QualityPredictor Trained(QualityPredictorOptions? options = null, int outcomes = 200, int seed = 1)
    {
        var predictor = new QualityPredictor(options ?? new QualityPredictorOptions { MaxGain = 0.1 });
        var random = new Random(seed);
        for (int i = 0; i < outcomes; i++)
        {
            // Topic 0 ("proofs"): the cheap tier fails, the strong one succeeds. Topic 1 ("translations"): both succeed.
            int topic = i % 2;
            var vector = Topic(topic, random);
            predictor.RecordOutcome($"prompt {i}", vector, 0, topic == 0 ? 0 : 1);
            predictor.RecordOutcome($"prompt {i}", vector, 1, 1);
        }

        return predictor;
    }

    [Fact]
    public void Recorded_outcomes_change_later_decisions_for_similar_prompts_only()
    {
        var random = new Random(7);
        using var fresh = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.1 });
        var proof = Topic(0, random);
        var translation = Topic(1, random);
        fresh.Predict("prompt", proof).ChosenTier.Should().Be(fresh.Predict("prompt", translation).ChosenTier, "with no outcomes only the text decides, and it is the same");

        using var trained = Trained();

        var onProof = trained.Predict("prompt", proof);
        var onTranslation = trained.Predict("prompt", translation);
        onProof.ChosenTier.Should().Be(1, "the cheap tier failed every similar prompt: {0}", onProof);
        onTranslation.ChosenTier.Should().Be(0, "the cheap tier answered every similar prompt: {0}", onTranslation);
        onProof.GainOver(0).Should().BeGreaterThan(0.3);
        onProof.Evidence.Should().BeGreaterThan(10);

        // A prompt unlike any recorded one (another topic) has no nearby evidence: the prior decides.
        var unseen = trained.Predict("prompt", Topic(5, random, noise: 0));
        unseen.Evidence.Should().Be(0);
    }

    [Fact]
    public void Learned_state_saves_and_loads_to_the_same_predictions()
    {
        using var trained = Trained(new QualityPredictorOptions { StrongShare = 0.4 });
        using var file = new MemoryStream();
        trained.Save(file);
        file.Position = 0;

        using var loaded = new QualityPredictor(new QualityPredictorOptions { StrongShare = 0.4 });
        loaded.Load(file);

        loaded.OutcomeCount.Should().Be(trained.OutcomeCount);
        loaded.Threshold.Should().Be(trained.Threshold);
        var random = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            var vector = Topic(random.Next(4), random);
            loaded.Predict($"question {i}", vector).Quality.Should().Equal(trained.Predict($"question {i}", vector).Quality);
        }
    }

    [Fact]
    public void A_state_file_saves_atomically_and_reloads_at_start()
    {
        var path = Path.Combine(Path.GetTempPath(), $"quality-{Guid.NewGuid():N}.json");
        try
        {
            QualityPrediction before;
            var vector = Topic(0, new Random(1));
            using (var trained = Trained(new QualityPredictorOptions { MaxGain = 0.1, StatePath = path }))
            {
                before = trained.Predict("prompt", vector);
            }

            File.Exists(path).Should().BeTrue("dispose saves the state");
            Directory.GetFiles(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}*").Should().BeEmpty("the temporary file was renamed");

            using var restarted = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.1, StatePath = path });
            restarted.LoadError.Should().BeNull();
            restarted.OutcomeCount.Should().Be(400);
            restarted.Predict("prompt", vector).Quality.Should().Equal(before.Quality);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("not json at all", "not valid JSON")]
    [InlineData("{\"format\":\"something-else/9\"}", "has format 'something-else/9'")]
    [InlineData("{\"format\":\"inference-router-quality-state/1\",\"tierCount\":3}", "has 3 quality tiers; this predictor has 2")]
    [InlineData("{\"format\":\"inference-router-quality-state/1\",\"tierCount\":2,\"tierCounts\":[1,1],\"tierSums\":[5,0]}", "tier totals")]
    [InlineData("{\"format\":\"inference-router-quality-state/1\",\"tierCount\":2,\"tierCounts\":[1,1],\"tierSums\":[1,1],\"dimensions\":4,\"cells\":[{\"centroid\":\"AAAA\",\"counts\":[1,1],\"sums\":[1,1],\"difficulties\":[0,0]}]}", "cell")]
    [InlineData("{\"format\":\"inference-router-quality-state/1\",\"tierCount\":2,\"tierCounts\":[1,1],\"tierSums\":[1,1],\"learnedGram\":\"AAAA\",\"learnedMoments\":\"AAAA\"}", "difficulty model")]
    public void A_corrupt_or_mismatched_state_file_is_refused_with_a_clear_error_and_the_predictor_keeps_working(string content, string reason)
    {
        using var trained = Trained();
        var vector = Topic(0, new Random(2));
        var before = trained.Predict("prompt", vector);

        var loading = () => trained.Load(new MemoryStream(Encoding.UTF8.GetBytes(content)));

        loading.Should().Throw<InvalidDataException>().WithMessage($"*{reason}*").WithMessage("*delete it to start from the prior*");
        trained.Predict("prompt", vector).Quality.Should().Equal(before.Quality, "a refused file changes nothing");
        trained.OutcomeCount.Should().Be(400);

        // At start, from StatePath: logged, kept as LoadError, and the predictor runs on the prior.
        var path = Path.Combine(Path.GetTempPath(), $"quality-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        try
        {
            using var started = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.1, StatePath = path });
            started.LoadError.Should().Contain(path).And.Contain(reason);
            started.OutcomeCount.Should().Be(0);
            using var fresh = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.1 });
            started.Predict("prompt", vector).Quality.Should().Equal(fresh.Predict("prompt", vector).Quality);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_state_learned_with_another_embedding_model_is_refused()
    {
        var generator = new FixedEmbeddingGenerator("model-a", Dimensions);
        using var trained = new QualityPredictor(new QualityPredictorOptions(), generator);
        trained.RecordOutcome("prompt", Topic(0, new Random(1)), 0, 1);
        using var file = new MemoryStream();
        trained.Save(file);
        file.Position = 0;

        using var other = new QualityPredictor(new QualityPredictorOptions(), new FixedEmbeddingGenerator("model-b", Dimensions));
        other.Invoking(p => p.Load(file)).Should().Throw<InvalidDataException>().WithMessage("*embedding model 'model-a'*embeds with 'model-b'*");
    }

    [Fact]
    public void The_apps_own_outcomes_teach_it_which_prompts_are_hard_even_against_the_prior()
    {
        // In this app, short one-line asks fail on the cheap tier and long, detailed ones succeed: the reverse of the prior's view.
        static string Short(int i) => $"Fix bug {i}.";
        static string Long(int i) => $"Here is the full context for request {i}: the customer wrote a long, careful message about their order, " +
            "listing the items, the dates and what went wrong; please summarise it politely in two sentences for the support team.";
        using var predictor = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.1 });
        var before = (Short: predictor.Predict(Short(0), default).Difficulty, Long: predictor.Predict(Long(0), default).Difficulty);
        before.Short.Should().BeLessThan(before.Long, "the prior finds longer prompts harder");

        for (int i = 1; i <= 300; i++)
        {
            predictor.RecordOutcome(Short(i), default, 0, 0);
            predictor.RecordOutcome(Long(i), default, 0, 1);
            predictor.RecordOutcome(Short(i), default, 1, 1);
            predictor.RecordOutcome(Long(i), default, 1, 1);
        }

        var shortPrompt = predictor.Predict(Short(1000), default);
        var longPrompt = predictor.Predict(Long(1000), default);
        shortPrompt.Difficulty.Should().BeGreaterThan(0.8);
        longPrompt.Difficulty.Should().BeLessThan(0.2);
        shortPrompt.ChosenTier.Should().Be(1);
        longPrompt.ChosenTier.Should().Be(0);
    }

    [Fact]
    public void Three_tiers_pick_the_cheapest_that_clears_the_bar_and_skip_tiers_with_no_route()
    {
        using var predictor = new QualityPredictor(new QualityPredictorOptions { TierCount = 3, MaxGain = 0.2 });
        var random = new Random(5);
        for (int i = 0; i < 300; i++)
        {
            // Topic 0: only the large tier succeeds. Topic 1: small and large succeed. Topic 2: all succeed.
            int topic = i % 3;
            var vector = Topic(topic, random);
            predictor.RecordOutcome($"p{i}", vector, 0, topic == 2 ? 1 : 0);
            predictor.RecordOutcome($"p{i}", vector, 1, topic >= 1 ? 1 : 0);
            predictor.RecordOutcome($"p{i}", vector, 2, 1);
        }

        predictor.Predict("x", Topic(0, random)).ChosenTier.Should().Be(2);
        predictor.Predict("x", Topic(1, random)).ChosenTier.Should().Be(1);
        predictor.Predict("x", Topic(2, random)).ChosenTier.Should().Be(0);

        var middle = predictor.Predict("x", Topic(1, random));
        middle.ChooseTier([true, false, true]).Should().Be(2, "with no small route, the prompt escalates rather than drops to a tier that fails it");
        middle.ChooseTier([false, false, false]).Should().Be(-1);
    }

    [Fact]
    public void Predictions_and_outcomes_are_counted_by_tier()
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        using var predictions = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.QualityPredictionsInstrument);
        using var outcomes = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.QualityOutcomesInstrument);
        using var predictor = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.5 }, meterFactory: meters);

        predictor.RecordOutcome("q", default, 1, 1);
        predictor.RecordOutcome("q", default, 1, 0);
        predictor.Predict("q", default);

        outcomes.GetMeasurementSnapshot().Select(m => m.Tags["inference_router.quality.tier"]).Should().Equal(1, 1);
        predictions.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["inference_router.quality.tier"].Should().Be(0, "a gain under 0.5 keeps the cheap tier");
    }

    [Fact]
    public void Bad_options_and_outcomes_are_refused_naming_the_value()
    {
        FluentActions.Invoking(() => new QualityPredictor(new QualityPredictorOptions { StrongShare = 1.5 }))
            .Should().Throw<ArgumentException>().WithMessage("*StrongShare is 1.5*");
        FluentActions.Invoking(() => new QualityPredictor(new QualityPredictorOptions { StrongShare = 0.2, KeepQuality = 0.9 }))
            .Should().Throw<ArgumentException>().WithMessage("*one bar*");
        FluentActions.Invoking(() => new QualityPredictor(new QualityPredictorOptions { TierCount = 1 }))
            .Should().Throw<ArgumentException>().WithMessage("*TierCount is 1*");

        using var predictor = new QualityPredictor();
        predictor.Invoking(p => p.RecordOutcome("q", [], 2, 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*0 (cheapest) to 1*");
        predictor.Invoking(p => p.RecordOutcome("q", [], 0, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*[0, 1]*");
        predictor.RecordOutcome("q", new float[4], 0, 1);
        predictor.Invoking(p => p.RecordOutcome("q", new float[8], 0, 1)).Should().Throw<ArgumentException>().WithMessage("*8 dimensions*4*");
        predictor.OutcomeCount.Should().Be(1, "refused outcomes are not counted");
    }

    [Fact]
    public void Recording_and_predicting_at_once_from_many_threads_loses_no_outcome()
    {
        using var predictor = new QualityPredictor(new QualityPredictorOptions { MaxCells = 64 });
        Parallel.For(0, 4_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var random = new Random(i);
            var vector = Topic(i % 20, random);
            if (i % 2 == 0)
            {
                predictor.RecordOutcome($"p{i}", vector, i % 4 == 0 ? 0 : 1, random.Next(2));
            }
            else
            {
                predictor.Predict($"p{i}", vector).Quality.Should().OnlyContain(q => q >= 0 && q <= 1);
            }
        });

        predictor.OutcomeCount.Should().Be(2_000);
    }

    [Theory]
    [InlineData("")]
    [InlineData("日本語の質問：この関数の計算量は？")]
    [InlineData("Calculate ∫x² dx from 0 to 3. $\\frac{1}{2}$\nA. 9\nB. 3\nC. 27\nD. 1")]
    [InlineData("```python\ndef f(x):\n    return x * 2\n```\nWhy does this fail?")]
    public void Any_prompt_gets_a_difficulty_in_range(string prompt)
    {
        var difficulty = QualityPrior.Default.PredictDifficulty(prompt);

        difficulty.Should().BeInRange(0, 1);
        using var predictor = new QualityPredictor();
        predictor.Predict(prompt, default).Quality.Should().OnlyContain(q => q >= 0 && q <= 1);
    }

    /// <summary>An embedding generator that only reports its model (the tests pass vectors themselves).</summary>
    private sealed class FixedEmbeddingGenerator(string model, int dimensions) : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly EmbeddingGeneratorMetadata _metadata = new("test", null, model, dimensions);

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(_ => new Embedding<float>(new float[dimensions]))));

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata : null;

        public void Dispose()
        {
        }
    }
}
