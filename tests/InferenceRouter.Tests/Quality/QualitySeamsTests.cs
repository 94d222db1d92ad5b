using InferenceRouter.Tests.Caching;
using InferenceRouter.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Quality;

/// <summary>
/// Quality routing at its seams with the cache and the egress gate: real MiniLM embeddings (claimed remote where the test needs a remote
/// service), real OpenAI SDK routes against loopback servers.
/// </summary>
[Collection(EmbeddingCollection.Name)]
public class QualitySeamsTests(EmbeddingFixture embeddings)
{
    /// <summary>The real model behind the metadata of a remote embedding service; it records every text it is sent.</summary>
    private sealed class RemoteEmbeddings(IEmbeddingGenerator<string, Embedding<float>> inner) : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private readonly EmbeddingGeneratorMetadata _metadata = new("remote-embeddings", new Uri("https://embeddings.example.com/v1"), "text-embedding-3-small");

        public List<string> Sent { get; } = [];

        public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            lock (Sent)
            {
                Sent.AddRange(values);
            }

            return base.GenerateAsync(values, options, cancellationToken);
        }

        public override object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata : base.GetService(serviceType, serviceKey);
    }

    private static RouteDescriptor Tier(RouteDescriptor d, int tier, bool local = false) =>
        new(d.Name) { ModelId = d.ModelId, Capabilities = d.Capabilities, QualityTier = tier, IsLocal = local };

    [Fact]
    public async Task A_call_kept_on_the_device_is_never_embedded_by_a_remote_service_to_predict_or_to_record_its_outcome()
    {
        await using var servers = await LoopbackServers.StartAsync("local", "cloud");
        var remote = new RemoteEmbeddings(embeddings.Generator);
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(remote);
        services.AddInferenceRouter(r =>
            {
                r.AddRoute(Tier(new RouteDescriptor("local") { ModelId = "local-model", Capabilities = RouteCapabilities.All }, 0, local: true), servers[0].CreateChatClient("local-model"));
                r.AddRoute(Tier(new RouteDescriptor("cloud") { ModelId = "cloud-model", Capabilities = RouteCapabilities.All }, 1), servers[1].CreateChatClient("cloud-model"));
                r.AddQualityRouting(o => o.MaxGain = 0.3);
            })
            .UseSemanticCache()   // the documented pipeline
            .UseQualityRouting();
        await using var host = services.BuildServiceProvider();
        var client = host.GetRequiredService<IChatClient>();
        var predictor = host.GetRequiredService<QualityPredictor>();
        const string Private = "My biopsy came back positive for melanoma. What are my treatment options?";

        foreach (bool streaming in new[] { false, true })
        {
            var messages = Prompt(Private + (streaming ? " (streamed)" : string.Empty));
            var options = new ChatOptions().KeepOnDevice();
            var response = streaming ? await client.GetStreamingResponseAsync(messages, options).ToChatResponseAsync() : await client.GetResponseAsync(messages, options);
            response.GetRoutingInfo()!.Route.Should().Be("local");
            response.GetRoutingInfo()!.KeptOnDevice.Should().BeTrue();
            await predictor.RecordOutcomeAsync(messages, response, score: 1);
            predictor.OutcomeCount.Should().BeGreaterThan(0, "the outcome counts, without an embedding");

            var hit = await client.GetResponseAsync(messages, options);
            hit.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
            hit.GetRoutingInfo()!.KeptOnDevice.Should().BeTrue("a cache hit of a call kept on the device says so");
        }

        await predictor.RecordOutcomeAsync(Private, tier: 1, score: 0, keptOnDevice: true);
        remote.Sent.Should().NotContain(t => t.Contains("melanoma"), "no private prompt reached the remote embedding service, for the cache, a prediction or an outcome");
        servers[1].RequestCount.Should().Be(0);

        // The same pipeline embeds an ordinary call: the test would see a leak.
        await client.GetResponseAsync("Write a cheerful greeting for my team.");
        remote.Sent.Should().Contain(t => t.Contains("cheerful greeting"));
    }

    private static (RouterChatClient Router, IChatClient Client) Tiers(LoopbackServers servers, QualityPredictor predictor)
    {
        var router = new RouterChatClient(servers.Routes((s, d) => Tier(d, int.Parse(s.Name[1..], System.Globalization.CultureInfo.InvariantCulture))), policies: [RoutingPolicies.CreateQuality(predictor)]);
        var client = new ChatClientBuilder(router).UseSemanticCache().UseQualityRouting(predictor).Build();
        return (router, client);
    }

    /// <summary>What an app would record when its cheap tiers keep failing (by prompt only: the tiers' means move for every prompt).</summary>
    private static void LearnThatOnlyTheStrongestTierSucceeds(QualityPredictor predictor)
    {
        for (int i = 0; i < 200; i++)
        {
            predictor.RecordOutcome("Write a short note.", [], tier: 0, score: 0);
            predictor.RecordOutcome("Write a short note.", [], tier: 1, score: 0);
            predictor.RecordOutcome("Write a short note.", [], tier: 2, score: 1);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_answer_the_router_sent_to_the_strongest_tier_is_a_hit_for_the_same_call(bool streaming)
    {
        await using var servers = await LoopbackServers.StartAsync("t0", "t1", "t2");
        using var predictor = new QualityPredictor(new QualityPredictorOptions { TierCount = 3, MaxGain = 0.3 });
        LearnThatOnlyTheStrongestTierSucceeds(predictor);
        var (router, client) = Tiers(servers, predictor);
        using var _ = router;
        var messages = Prompt("Prove that every bounded monotone sequence of real numbers converges.");

        async Task<ChatResponse> AskAsync() => streaming ? await client.GetStreamingResponseAsync(messages).ToChatResponseAsync() : await client.GetResponseAsync(messages);

        var first = await AskAsync();
        first.GetRoutingInfo()!.Route.Should().Be("t2", "no cheaper tier is within the bar");
        var second = await AskAsync();
        second.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact, "the route preview, prediction included, says tier 2 serves this call now");
        servers[2].RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task A_cached_cheap_answer_is_not_served_once_the_predictor_sends_the_prompt_to_the_strongest_tier()
    {
        await using var servers = await LoopbackServers.StartAsync("t0", "t1", "t2");
        using var predictor = new QualityPredictor(new QualityPredictorOptions { TierCount = 3, MaxGain = 0.3 });
        var (router, client) = Tiers(servers, predictor);
        using var _ = router;
        var messages = Prompt("Write a short thank-you note to my neighbour.");

        (await client.GetResponseAsync(messages)).GetRoutingInfo()!.Route.Should().Be("t0");
        (await client.GetResponseAsync(messages)).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);

        LearnThatOnlyTheStrongestTierSucceeds(predictor);

        (await predictor.PredictAsync(messages)).ChosenTier.Should().Be(2);
        var now = await client.GetResponseAsync(messages);
        now.GetRoutingInfo()!.CacheHit.Should().BeNull("the cached tier-0 answer is not what this call gets now");
        now.GetRoutingInfo()!.Route.Should().Be("t2");
        var streamed = await client.GetStreamingResponseAsync(messages).ToChatResponseAsync();
        streamed.Text.Should().Be("Hello from t2", "a stream follows the same preview: tier 2's answer, now cached, or tier 2 itself");
        servers[0].RequestCount.Should().Be(1, "tier 0 answered once, before the predictor learned");
    }
}
