using InferenceRouter.Tests.Caching;
using InferenceRouter.Tests.Integration;
using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Quality;

/// <summary>Quality-aware routing end to end: real OpenAI SDK clients against loopback servers, real MiniLM embeddings.</summary>
[Collection(EmbeddingCollection.Name)]
public class QualityRoutingTests(EmbeddingFixture embeddings)
{
    private static readonly string[] Proofs =
    [
        "Prove that there are infinitely many prime numbers.",
        "Prove that the square root of 2 is irrational.",
        "Prove that every group of prime order is cyclic.",
        "Prove that the sum of the first n odd numbers is n squared.",
        "Prove that a continuous function on a closed interval is bounded.",
        "Prove by induction that 2^n > n for every natural number n.",
    ];

    private static readonly string[] Greetings =
    [
        "Write a short friendly greeting for a birthday card.",
        "Say good morning to my team in a cheerful way.",
        "Write a thank-you note to a neighbour who watered my plants.",
        "Write a warm welcome message for a new colleague.",
        "Write a short congratulations message for a graduation.",
        "Say happy holidays to my customers in one sentence.",
    ];

    private static ChatRoute[] Tiered(LoopbackServers servers) =>
        servers.Routes((s, d) => new RouteDescriptor(d.Name) { ModelId = d.ModelId, Provider = d.Provider, Capabilities = d.Capabilities, QualityTier = s.Name == "small" ? 0 : 1 });

    /// <summary>Teaches the predictor what an app would record: the small tier fails proofs, both tiers write greetings well.</summary>
    private static async Task RecordAsync(QualityPredictor predictor)
    {
        foreach (var proof in Proofs)
        {
            await predictor.RecordOutcomeAsync(proof, tier: 0, score: 0);
            await predictor.RecordOutcomeAsync(proof, tier: 1, score: 1);
        }

        foreach (var greeting in Greetings)
        {
            await predictor.RecordOutcomeAsync(greeting, tier: 0, score: 1);
            await predictor.RecordOutcomeAsync(greeting, tier: 1, score: 1);
        }
    }

    [Fact]
    public async Task Calls_follow_the_prediction_and_recorded_outcomes_change_later_decisions()
    {
        await using var servers = await LoopbackServers.StartAsync("small", "large");
        using var predictor = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.3 }, embeddings.Generator);
        using var router = new RouterChatClient(Tiered(servers), policies: [RoutingPolicies.CreateQuality(predictor)]);
        using var client = new QualityChatClient(router, predictor);
        const string NewProof = "Prove that there is no largest even number.";
        const string NewGreeting = "Write a cheerful get-well-soon message for a friend.";

        // Before any outcome, the prior alone decides: both prompts are short and plain, so neither is predicted to need the large tier.
        (await client.GetResponseAsync(Prompt(NewProof))).GetRoutingInfo()!.Route.Should().Be("small");
        (await client.GetResponseAsync(Prompt(NewGreeting))).GetRoutingInfo()!.Route.Should().Be("small");

        await RecordAsync(predictor);

        var proof = await client.GetResponseAsync(Prompt(NewProof));
        var greeting = await client.GetResponseAsync(Prompt(NewGreeting));
        proof.GetRoutingInfo()!.Route.Should().Be("large", "the small tier failed every similar prompt");
        proof.GetRoutingInfo()!.QualityTier.Should().Be(1);
        greeting.GetRoutingInfo()!.Route.Should().Be("small", "the small tier answered every similar prompt well");

        var streamed = await client.GetStreamingResponseAsync(Prompt(NewProof)).ToChatResponseAsync();
        streamed.GetRoutingInfo()!.Route.Should().Be("large");
        servers[1].Requests.Should().NotBeEmpty().And.OnlyContain(r => r.Model == "large-model");

        var explanation = await client.ExplainAsync(Prompt(NewProof));
        explanation.Candidates.Select(c => c.Route).Should().Equal("large", "small");
        var verdicts = string.Join("\n", explanation.Routes.SelectMany(r => r.Verdicts).Select(v => v.ToString()));
        verdicts.Should().Contain("tier 1 chosen").And.Contain("threshold 0.300").And.Contain("tier 0 gains");
    }

    [Fact]
    public async Task Outcomes_recorded_from_responses_name_the_tier_that_answered_and_cache_hits_are_refused()
    {
        await using var servers = await LoopbackServers.StartAsync("small", "large");
        using var predictor = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.1 }, embeddings.Generator);
        using var router = new RouterChatClient(Tiered(servers), policies: [RoutingPolicies.CreateQuality(predictor)]);
        using var client = new ChatClientBuilder(router).UseSemanticCache().UseQualityRouting(predictor).Build();
        var messages = Prompt(Greetings[0]);

        var response = await client.GetResponseAsync(messages);
        await predictor.RecordOutcomeAsync(messages, response, score: 0);

        predictor.OutcomeCount.Should().Be(1);
        client.GetService<QualityPredictor>().Should().BeSameAs(predictor);
        var cached = await client.GetResponseAsync(messages);
        cached.GetRoutingInfo()!.CacheHit.Should().NotBeNull();
        await predictor.Invoking(p => p.RecordOutcomeAsync(messages, cached, 1)).Should().ThrowAsync<InvalidOperationException>().WithMessage("*came from the cache*");
    }

    [Fact]
    public async Task A_failing_chosen_tier_escalates_to_the_stronger_one_and_a_pinned_route_is_kept()
    {
        await using var servers = await LoopbackServers.StartAsync("small", "large");
        servers[0].DefaultBehavior = ServerBehavior.Error(503);
        using var predictor = new QualityPredictor(new QualityPredictorOptions { MaxGain = 0.3 }, embeddings.Generator);
        await RecordAsync(predictor);
        using var router = new RouterChatClient(Tiered(servers), policies: [RoutingPolicies.CreateQuality(predictor)]);
        using var client = new QualityChatClient(router, predictor);

        var response = await client.GetResponseAsync(Prompt("Write a cheerful get-well-soon message for a friend."));

        response.GetRoutingInfo()!.Attempts.Select(a => a.Route).Should().Equal("small", "large");
        response.Text.Should().Be("Hello from large");

        servers[0].DefaultBehavior = ServerBehavior.Ok;
        var pinned = await client.GetResponseAsync(Prompt(Proofs[0]), new ChatOptions().WithRoute("small"));
        pinned.GetRoutingInfo()!.Route.Should().Be("small", "a call that names its route keeps it");
    }

    [Fact]
    public async Task Registered_from_configuration_it_routes_by_quality_and_keeps_what_it_learned_across_restarts()
    {
        await using var servers = await LoopbackServers.StartAsync("small", "large");
        var statePath = Path.Combine(Path.GetTempPath(), $"quality-{Guid.NewGuid():N}.json");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Routes:0:Name"] = "small",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = servers[0].BaseUrl.ToString(),
            ["InferenceRouter:Routes:0:Model"] = "small-model",
            ["InferenceRouter:Routes:0:QualityTier"] = "0",
            ["InferenceRouter:Routes:1:Name"] = "large",
            ["InferenceRouter:Routes:1:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:1:Endpoint"] = servers[1].BaseUrl.ToString(),
            ["InferenceRouter:Routes:1:Model"] = "large-model",
            ["InferenceRouter:Routes:1:QualityTier"] = "1",
            ["InferenceRouter:Quality:MaxGain"] = "0.1",
            ["InferenceRouter:Quality:StatePath"] = statePath,
        }).Build();

        ServiceProvider Host()
        {
            var services = new ServiceCollection();
            services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new NonDisposingGenerator(embeddings.Generator));
            services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), r => r.AddQualityRouting()).UseQualityRouting();
            return services.BuildServiceProvider();
        }

        try
        {
            await using (var first = Host())
            {
                await RecordAsync(first.GetRequiredService<QualityPredictor>());
                var response = await first.GetRequiredService<IChatClient>().GetResponseAsync(Prompt("Prove that there is no largest even number."));
                response.GetRoutingInfo()!.Route.Should().Be("large");
            }

            await using var second = Host();
            var predictor = second.GetRequiredService<QualityPredictor>();
            predictor.OutcomeCount.Should().Be(24, "the first host saved its state when it stopped");
            var again = await second.GetRequiredService<IChatClient>().GetResponseAsync(Prompt("Prove that there is no largest even number."));
            again.GetRoutingInfo()!.Route.Should().Be("large");
        }
        finally
        {
            File.Delete(statePath);
        }
    }

    [Fact]
    public async Task Bad_quality_configuration_fails_at_start_saying_what_to_fix()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Quality:StrongShare"] = "20",
        }).Build();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), r => r.AddRoute(new RouteDescriptor("only") { QualityTier = 0 }, TestChatClient.Answering("x")).AddQualityRouting())
            .UseQualityRouting();
        using var provider = services.BuildServiceProvider();

        provider.Invoking(p => p.GetRequiredService<IChatClient>()).Should().Throw<OptionsValidationException>().WithMessage("*StrongShare is 20*");

        var tooHigh = new ServiceCollection();
        tooHigh.AddInferenceRouter(r => r.AddRoute(new RouteDescriptor("huge") { QualityTier = 4 }, TestChatClient.Answering("x")).AddQualityRouting()).UseQualityRouting();
        using var second = tooHigh.BuildServiceProvider();
        second.Invoking(p => p.GetRequiredService<IChatClient>()).Should().Throw<InvalidOperationException>().WithMessage("*'huge' has QualityTier 4*raise TierCount to 5*");

        using var noPolicy = new RouterChatClient([Of("a", TestChatClient.Answering("x"))]);
        using var predictor = new QualityPredictor();
        using var client = new QualityChatClient(noPolicy, predictor);
        await client.Awaiting(c => c.GetResponseAsync(Prompt())).Should().ThrowAsync<InvalidOperationException>().WithMessage("*AddQualityRouting()*");
    }

    /// <summary>Lends the shared fixture's generator to a service provider without letting the provider dispose it.</summary>
    private sealed class NonDisposingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner) : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        protected override void Dispose(bool disposing)
        {
        }
    }
}
