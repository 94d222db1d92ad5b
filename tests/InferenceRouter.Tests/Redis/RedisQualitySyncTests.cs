using InferenceRouter.Tests.Caching;
using InferenceRouter.TestServer;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary>What quality routing learns, shared between predictors (app instances) through a real redis-server, with real MiniLM embeddings.</summary>
[Collection(EmbeddingCollection.Name)]
public class RedisQualitySyncTests(EmbeddingFixture embeddings)
{
    private static readonly string[] Hard =
    [
        "Prove that there are infinitely many prime numbers.",
        "Prove that the square root of 2 is irrational.",
        "Prove that every group of prime order is cyclic.",
        "Prove by induction that 2^n > n for every natural number n.",
        "Prove that a continuous function on a closed interval is bounded.",
    ];

    private static readonly string[] Easy =
    [
        "Write a short friendly greeting for a birthday card.",
        "Say good morning to my team in a cheerful way.",
        "Write a thank-you note to a neighbour who watered my plants.",
        "Write a warm welcome message for a new colleague.",
        "Say happy holidays to my customers in one sentence.",
    ];

    private static readonly string[] Probes = ["Prove that there are infinitely many primes of the form 4k + 3.", "Write a cheerful note wishing my friend a happy birthday.", "Résumez ce texte en une phrase : 今日は良い天気です。"];

    private QualityPredictor Predictor(string? statePath = null) =>
        new(new QualityPredictorOptions { StatePath = statePath }, embeddings.Generator);

    /// <summary>One app instance: its own connection, a fresh predictor, and its sync reading every 50 ms.</summary>
    private async Task<Instance> StartAsync(RedisServer server, string prefix)
    {
        var redis = await server.ConnectAsync();
        var predictor = Predictor();
        return new Instance(redis, predictor, new RedisQualitySync(redis, predictor, prefix, new RedisQualitySyncOptions { PollInterval = TimeSpan.FromMilliseconds(50) }));
    }

    [RedisFact]
    public async Task An_outcome_recorded_on_one_instance_is_learned_by_the_others_and_by_one_started_later_and_they_decide_alike()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = "quality-" + Guid.NewGuid().ToString("N")[..8];
        using var instanceA = await StartAsync(server, prefix);
        using var instanceB = await StartAsync(server, prefix);
        var (a, syncA) = (instanceA.Predictor, instanceA.Sync);
        var (b, syncB) = (instanceB.Predictor, instanceB.Sync);

        // Instance A learns that the cheap tier fails proofs and writes greetings well; the strong tier does both.
        for (int round = 0; round < 3; round++)
        {
            foreach (var prompt in Hard)
            {
                await a.RecordOutcomeAsync(prompt, 0, 0);
                await a.RecordOutcomeAsync(prompt, 1, 1);
            }

            foreach (var prompt in Easy)
            {
                await a.RecordOutcomeAsync(prompt, 0, 1);
                await a.RecordOutcomeAsync(prompt, 1, 1);
            }
        }

        await Eventually.TrueAsync(() => b.OutcomeCount == 60, "B learned A's 60 outcomes");
        syncB.AppliedOutcomes.Should().Be(60);
        syncA.AppliedOutcomes.Should().Be(0, "an instance never learns its own outcomes twice");
        await SameDecisionsAsync(a, b);
        var fresh = Predictor();
        (await fresh.PredictAsync([new ChatMessage(ChatRole.User, Probes[0])])).Quality.Should().NotEqual((await a.PredictAsync([new ChatMessage(ChatRole.User, Probes[0])])).Quality, "what A learned moved its predictions off the prior");

        // An instance started later learns the recent outcomes first; and what B records reaches A.
        using var redisC = await server.ConnectAsync();
        using var syncC = new RedisQualitySync(redisC, fresh, prefix);
        await syncC.CaughtUp.WaitAsync(TimeSpan.FromSeconds(30));
        fresh.OutcomeCount.Should().Be(60);
        await SameDecisionsAsync(a, fresh);
        await b.RecordOutcomeAsync("Prove that the harmonic series diverges.", 0, 0);
        await Eventually.TrueAsync(() => a.OutcomeCount == 61 && fresh.OutcomeCount == 61, "A and C learned B's outcome");
        b.OutcomeCount.Should().Be(61);
        fresh.Dispose();
    }

    [RedisFact]
    public async Task A_predictor_that_loaded_its_saved_state_follows_from_the_end_and_counts_nothing_twice()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        string prefix = "quality-" + Guid.NewGuid().ToString("N")[..8];
        var state = Path.Combine(Path.GetTempPath(), $"quality-{Guid.NewGuid():N}.json");
        try
        {
            using (var before = Predictor(state))
            using (new RedisQualitySync(redis, before, prefix))
            {
                foreach (var prompt in Hard)
                {
                    await before.RecordOutcomeAsync(prompt, 0, 0);
                }
            }

            // Restarted with its state file: the 5 outcomes it shared are in the file, so reading them back from Redis would count them twice.
            using var restarted = Predictor(state);
            restarted.OutcomeCount.Should().Be(5);
            using var sync = new RedisQualitySync(redis, restarted, prefix);
            await sync.CaughtUp.WaitAsync(TimeSpan.FromSeconds(30));
            restarted.OutcomeCount.Should().Be(5);
            sync.AppliedOutcomes.Should().Be(0);
        }
        finally
        {
            File.Delete(state);
        }
    }

    [RedisFact]
    public async Task With_redis_down_recording_still_counts_locally_and_sharing_resumes_when_it_is_back()
    {
        await using var server = await RedisServer.StartAsync();
        using var instanceA = await StartAsync(server, "quality-down");
        using var instanceB = await StartAsync(server, "quality-down");
        var (a, b) = (instanceA.Predictor, instanceB.Predictor);
        await Task.WhenAll(instanceA.Sync.CaughtUp, instanceB.Sync.CaughtUp);
        server.Kill();

        await a.RecordOutcomeAsync(Hard[0], 0, 0);
        a.OutcomeCount.Should().Be(1, "recording never waits on Redis, nor fails with it");

        await server.RestartAsync();
        await Eventually.TrueAsync(() => instanceA.Redis.IsConnected && instanceB.Redis.IsConnected, "both instances reconnected");
        await a.RecordOutcomeAsync(Hard[1], 0, 0);
        await Eventually.TrueAsync(() => b.OutcomeCount >= 1, "B's reads recovered and it learned what A recorded after the outage");
        a.OutcomeCount.Should().Be(2);
    }

    [RedisFact]
    public async Task An_outcome_of_a_call_kept_on_the_device_is_learned_only_where_it_was_recorded()
    {
        await using var server = await RedisServer.StartAsync();
        using var instanceA = await StartAsync(server, "quality-private");
        using var instanceB = await StartAsync(server, "quality-private");
        var (a, b) = (instanceA.Predictor, instanceB.Predictor);
        using var router = new RouterChatClient([
            new ChatRoute(new RouteDescriptor("on-device") { IsLocal = true, QualityTier = 0 }, TestChatClient.Answering("local")),
            new ChatRoute(new RouteDescriptor("cloud") { QualityTier = 1 }, TestChatClient.Answering("cloud"))]);
        List<ChatMessage> privateQuestion = [new(ChatRole.User, "Prove that my salary of 93,000 is below the median.")];
        List<ChatMessage> ordinary = [new(ChatRole.User, Hard[0])];

        var kept = await router.GetResponseAsync(privateQuestion, new ChatOptions().KeepOnDevice());
        kept.GetRoutingInfo()!.KeptOnDevice.Should().BeTrue();
        await a.RecordOutcomeAsync(privateQuestion, kept, 0);
        var shared = await router.GetResponseAsync(ordinary);
        shared.GetRoutingInfo()!.KeptOnDevice.Should().BeFalse();
        await a.RecordOutcomeAsync(ordinary, shared, 1);

        await Eventually.TrueAsync(() => b.OutcomeCount == 1, "B learned the ordinary outcome");
        a.OutcomeCount.Should().Be(2, "A learned both");
        (await instanceA.Redis.GetDatabase().StreamLengthAsync("{quality-private}:quality-outcomes")).Should().Be(1, "the private call's embedding never reached Redis");
    }

    [Fact]
    public void Shared_outcomes_of_another_version_or_setup_are_ignored_not_misread()
    {
        using var predictor = new QualityPredictor();
        var features = new float[QualityOutcome.FeatureCount];

        predictor.ApplyOutcome(new QualityOutcome(new float[QualityOutcome.FeatureCount + 1], [], 0, 1)).Should().BeFalse("another feature version");
        predictor.ApplyOutcome(new QualityOutcome(features, [], 5, 1)).Should().BeFalse("a tier this predictor does not have");
        predictor.ApplyOutcome(new QualityOutcome(features, [], 0, double.NaN)).Should().BeFalse("a score outside [0, 1]");
        predictor.ApplyOutcome(new QualityOutcome(features, [], 1, 0.5)).Should().BeTrue("without an embedding it moves the tier's mean");
        predictor.ApplyOutcome(new QualityOutcome(features, [1f, 0f], 0, 1)).Should().BeTrue();
        predictor.ApplyOutcome(new QualityOutcome(features, [1f, 0f, 0f], 0, 1)).Should().BeFalse("another embedding size than the evidence's");
        predictor.OutcomeCount.Should().Be(2);
        new RedisQualitySyncOptions { MaxSharedOutcomes = 0 }.GetValidationErrors().Should().ContainSingle().Which.Should().Contain("MaxSharedOutcomes");
    }

    private static async Task SameDecisionsAsync(QualityPredictor expected, QualityPredictor actual)
    {
        actual.Threshold.Should().Be(expected.Threshold);
        foreach (var probe in Probes.Concat(Hard).Concat(Easy))
        {
            var one = await expected.PredictAsync([new ChatMessage(ChatRole.User, probe)]);
            var other = await actual.PredictAsync([new ChatMessage(ChatRole.User, probe)]);
            other.Quality.Should().Equal(one.Quality, "the same outcomes in the same order make the same predictor ({0})", probe);
            other.ChosenTier.Should().Be(one.ChosenTier);
        }
    }

    private sealed record Instance(IConnectionMultiplexer Redis, QualityPredictor Predictor, RedisQualitySync Sync) : IDisposable
    {
        public void Dispose()
        {
            Sync.Dispose();
            Predictor.Dispose();
            Redis.Dispose();
        }
    }
}
