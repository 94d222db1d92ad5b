using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Benchmarks;

/// <summary>
/// Quality prediction without the embedding (the vector given), at 100,000 recorded outcomes spread over many topics, and the
/// <c>quality</c> policy's whole selection; the embedding itself is measured in <see cref="CacheLookupBenchmarks"/>'s terms (≈ 10 ms per prompt).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class QualityPredictionBenchmarks
{
    private const int Dimensions = 384;
    private const string Text = "Prove that the square root of 2 is irrational, then explain the proof to a ten-year-old.";
    private static readonly List<ChatMessage> Prompt = [new(ChatRole.User, Text)];
    private QualityPredictor _predictor = null!;
    private float[] _query = null!;
    private RouterChatClient _router = null!;
    private ChatOptions _options = null!;

    [Params(1_000, 100_000)]
    public int Outcomes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var topics = Enumerable.Range(0, 2_000).Select(_ => Unit(random, null)).ToArray();
        _predictor = new QualityPredictor(new QualityPredictorOptions(), new MiniLMMetadata());
        for (int i = 0; i < Outcomes; i++)
        {
            _predictor.RecordOutcome(Text, Unit(random, topics[random.Next(topics.Length)]), i % 2, random.Next(2));
        }

        _query = Unit(random, topics[0]);
        _router = new RouterChatClient(
            [new ChatRoute(new RouteDescriptor("small") { QualityTier = 0 }, new NoOpChatClient()), new ChatRoute(new RouteDescriptor("large") { QualityTier = 1 }, new NoOpChatClient())],
            new RouterOptions { DefaultPolicy = RoutingPolicies.Quality },
            [RoutingPolicies.CreateQuality(_predictor)]);
        _options = new ChatOptions().WithRoutingHints(RoutingHints.None with { Quality = _predictor.Predict(Text, _query) });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _router.Dispose();
        _predictor.Dispose();
    }

    [Benchmark]
    public QualityPrediction Predict() => _predictor.Predict(Text, _query);

    [Benchmark]
    public double PriorOnly() => _predictor.Prior.PredictDifficulty(Text);

    [Benchmark]
    public Task<ChatResponse> RouteWithPrediction() => _router.GetResponseAsync(Prompt, _options);

    private static float[] Unit(Random random, float[]? around)
    {
        var vector = new float[Dimensions];
        for (int i = 0; i < Dimensions; i++)
        {
            vector[i] = (around?[i] ?? 0) + (float)((random.NextDouble() - 0.5) * (around is null ? 1 : 0.5));
        }

        float norm = MathF.Sqrt(vector.Sum(v => v * v));
        return [.. vector.Select(v => v / norm)];
    }

    /// <summary>Says "all-MiniLM-L6-v2" so the prior reads vectors too, as it does in an app; never asked to embed.</summary>
    private sealed class MiniLMMetadata : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly EmbeddingGeneratorMetadata _metadata = new("benchmark", null, "all-MiniLM-L6-v2", Dimensions);

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The benchmark passes vectors.");

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata : null;

        public void Dispose()
        {
        }
    }
}
