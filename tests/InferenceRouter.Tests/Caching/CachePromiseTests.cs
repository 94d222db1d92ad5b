using System.Net;
using System.Reflection;
using System.Text.Json;
using InferenceRouter.Eval;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Caching;

/// <summary>"Partitioned by everything that changes an answer", tested as a promise: degraded answers, every option, long prompts, bounded memory.</summary>
public class CachePromiseTests
{
    private static TestChatClient Answering(string text, Func<bool>? fail = null) => new()
    {
        GetResponseAsyncCallback = (_, _, _) => fail?.Invoke() == true
            ? Task.FromException<ChatResponse>(new HttpRequestException("down", null, HttpStatusCode.ServiceUnavailable))
            : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { FinishReason = ChatFinishReason.Stop }),
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_answer_from_a_fallback_is_never_served_once_the_preferred_route_is_back(bool storeFallbackAnswers)
    {
        bool down = true;
        var remote = Answering("the big model's answer", () => down);
        var local = Answering("the tiny model's answer");
        using var router = new RouterChatClient(
            [Of("remote", remote), Of("local", local, d => new RouteDescriptor("local") { ModelId = "tiny", IsLocal = true, Capabilities = RouteCapabilities.All })],
            new RouterOptions { CircuitBreaker = { Enabled = false } });
        using var cache = new SemanticCacheChatClient(router, new HashEmbeddingGenerator(), options: new SemanticCacheOptions { StoreFallbackAnswers = storeFallbackAnswers });

        var degraded = await cache.GetResponseAsync(Prompt("Summarise the contract."));
        degraded.Text.Should().Be("the tiny model's answer");
        degraded.GetRoutingInfo()!.IsFallback.Should().BeTrue();
        cache.Store.Count.Should().Be(storeFallbackAnswers ? 1 : 0);

        down = false;
        var recovered = await cache.GetResponseAsync(Prompt("Summarise the contract."));
        recovered.Text.Should().Be("the big model's answer", "the remote route is what the request gets now");
        recovered.GetRoutingInfo()!.CacheHit.Should().BeNull();

        var again = await cache.GetResponseAsync(Prompt("Summarise the contract."));
        again.Text.Should().Be("the big model's answer");
        again.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact, "the preferred route's answer is stored and served");
        remote.Calls.Should().Be(2);
    }

    [Fact]
    public async Task An_answer_from_the_offline_local_model_or_a_budget_downgrade_is_not_stored()
    {
        var remote = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromException<ChatResponse>(new HttpRequestException(HttpRequestError.ConnectionError, "no network")) };
        var local = Answering("offline answer");
        using var router = new RouterChatClient(
            [Of("remote", remote), Of("local", local, d => new RouteDescriptor("local") { ModelId = "tiny", IsLocal = true, Capabilities = RouteCapabilities.All })],
            new RouterOptions { CircuitBreaker = { Enabled = false } });
        using var cache = new SemanticCacheChatClient(router);

        await cache.GetResponseAsync(Prompt("What is new?")); // remote fails to connect: offline from now on
        router.IsOffline.Should().BeTrue();
        var offline = await cache.GetResponseAsync(Prompt("What else is new?"));

        offline.GetRoutingInfo()!.Attempts.Should().ContainSingle("offline, the local route goes first");
        offline.GetRoutingInfo()!.IsFallback.Should().BeTrue();
        cache.Store.Count.Should().Be(0);

        var budgetOptions = new BudgetOptions();
        budgetOptions.Limits.Add(new BudgetLimit { Amount = 0.000001m, Enforcement = BudgetEnforcement.Downgrade });
        using var budget = new BudgetManager(budgetOptions);
        var premium = Answering("premium");
        using var pricedRouter = new RouterChatClient(
        [
            Of("premium", premium, d => new RouteDescriptor("premium") { ModelId = "gpt-4.1", Pricing = new RoutePricing(2m, 8m), Capabilities = RouteCapabilities.All }),
            Of("local", Answering("cheap"), d => new RouteDescriptor("local") { ModelId = "tiny", IsLocal = true, Capabilities = RouteCapabilities.All }),
        ]);
        using var budgeted = new SemanticCacheChatClient(new BudgetChatClient(pricedRouter, budget));
        var downgraded = await budgeted.GetResponseAsync(Prompt("Explain quantum tunnelling."), new ChatOptions { MaxOutputTokens = 100 });
        downgraded.Text.Should().Be("cheap");
        budgeted.Store.Count.Should().Be(0, "a downgraded answer is not what the request gets when the budget allows");
    }

    [Fact]
    public void Every_option_that_can_change_an_answer_is_keyed_or_bypasses_the_cache()
    {
        var messages = Prompt("What is the capital of France?");
        string? Key(ChatOptions options) => CacheRequest.Create(messages, options, CallContext.Capture(options), partitionByUser: false) is { Bypass: false } request ? request.Key : null;
        var baseline = Key(new ChatOptions())!;

        var variants = new Dictionary<string, Action<ChatOptions>>
        {
            [nameof(ChatOptions.ConversationId)] = o => o.ConversationId = "c1",
            [nameof(ChatOptions.Instructions)] = o => o.Instructions = "Answer in French.",
            [nameof(ChatOptions.Temperature)] = o => o.Temperature = 0.5f,
            [nameof(ChatOptions.MaxOutputTokens)] = o => o.MaxOutputTokens = 10,
            [nameof(ChatOptions.TopP)] = o => o.TopP = 0.5f,
            [nameof(ChatOptions.TopK)] = o => o.TopK = 5,
            [nameof(ChatOptions.FrequencyPenalty)] = o => o.FrequencyPenalty = 0.5f,
            [nameof(ChatOptions.PresencePenalty)] = o => o.PresencePenalty = 0.5f,
            [nameof(ChatOptions.Seed)] = o => o.Seed = 42,
            [nameof(ChatOptions.Reasoning)] = o => o.Reasoning = new ReasoningOptions { Effort = ReasoningEffort.High },
            [nameof(ChatOptions.ResponseFormat)] = o => o.ResponseFormat = ChatResponseFormat.Json,
            [nameof(ChatOptions.ModelId)] = o => o.ModelId = "gpt-4.1",
            [nameof(ChatOptions.StopSequences)] = o => o.StopSequences = ["."],
            [nameof(ChatOptions.AllowMultipleToolCalls)] = o => o.AllowMultipleToolCalls = false,
            [nameof(ChatOptions.ToolMode)] = o => o.ToolMode = ChatToolMode.RequireSpecific("f"),
            [nameof(ChatOptions.Tools)] = o => o.Tools = [AIFunctionFactory.Create(() => 1, "f")],
            [nameof(ChatOptions.AllowBackgroundResponses)] = o => o.AllowBackgroundResponses = true,
            [nameof(ChatOptions.ContinuationToken)] = o => o.ContinuationToken = ResponseContinuationToken.FromBytes(new byte[] { 1 }),
            [nameof(ChatOptions.RawRepresentationFactory)] = o => o.RawRepresentationFactory = _ => new object(),
            [nameof(ChatOptions.AdditionalProperties)] = o => o.AdditionalProperties = new() { ["user_tier"] = "gold" },
        };
        typeof(ChatOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name)
            .Should().BeSubsetOf(variants.Keys, "a new ChatOptions property must be keyed or bypass the cache before this test passes");

        foreach (var (name, set) in variants)
        {
            var options = new ChatOptions();
            set(options);
            Key(options).Should().NotBe(baseline, $"{name} changes the answer: it is keyed (another key) or bypasses the cache (no key)");
        }

        Key(new ChatOptions { Reasoning = new ReasoningOptions { Effort = ReasoningEffort.Low } })
            .Should().NotBe(Key(new ChatOptions { Reasoning = new ReasoningOptions { Effort = ReasoningEffort.High } }));
        Key(new ChatOptions { AdditionalProperties = new() { ["filters"] = new Dictionary<string, object?> { ["region"] = "eu" } } })
            .Should().NotBe(Key(new ChatOptions { AdditionalProperties = new() { ["filters"] = new Dictionary<string, object?> { ["region"] = "us" } } }),
                "two dictionaries print the same ToString() but are different requests");
        Key(new ChatOptions { AdditionalProperties = new() { ["x"] = new Unserialisable() } }).Should().BeNull("what cannot be keyed safely bypasses the cache");
        Key(new ChatOptions { Tools = [new HostedWebSearchTool()] }).Should().BeNull("hosted tools answer from state the cache cannot see");
        Key(new ChatOptions { Temperature = 0.5f }).Should().Be(Key(new ChatOptions { Temperature = 0.5f }), "keys are stable");
    }

    [Fact]
    public async Task Memory_stays_bounded_by_live_entries_whatever_the_number_of_conversations()
    {
        var options = new SemanticCacheOptions { MaxEntries = 100, MaxBytes = 2 * 1024 * 1024 };
        using var cache = new SemanticCacheChatClient(Answering(new string('a', 2_000)), new HashEmbeddingGenerator(), options: options);
        var store = (InMemoryCacheStore)cache.Store;

        for (int chat = 0; chat < 5_000; chat++)
        {
            // Every conversation has its own history, so its own partition.
            await cache.GetResponseAsync([new ChatMessage(ChatRole.System, $"Conversation {chat}"), new ChatMessage(ChatRole.User, $"Question {chat % 7}?")]);
            cache.IndexCount.Should().BeLessThanOrEqualTo(store.Count, "an index exists only while it holds a live entry");
        }

        store.Count.Should().BeLessThanOrEqualTo(100);
        store.Bytes.Should().BeLessThanOrEqualTo(options.MaxBytes);
        cache.IndexBytes.Should().BeLessThanOrEqualTo(store.Count * ((4L * ((384 * 4) + 48 + 16)) + 48), "index slots shrink with their entries (at most 4 per live one)");

        using var small = new SemanticCacheChatClient(Answering("x"), new HashEmbeddingGenerator(), options: new SemanticCacheOptions { MaxEntries = 10_000, MaxBytes = 64 * 1024 });
        for (int i = 0; i < 500; i++)
        {
            await small.GetResponseAsync(Prompt($"Question number {i}"));
        }

        ((InMemoryCacheStore)small.Store).Bytes.Should().BeLessThanOrEqualTo(64 * 1024, "the byte limit evicts before the entry limit is reached");
        small.Store.Count.Should().BeLessThan(500);
    }

    [Fact]
    public async Task A_call_kept_on_the_device_never_sends_its_prompt_to_a_remote_embedding_service()
    {
        var remoteEmbeddings = new HashEmbeddingGenerator(new EmbeddingGeneratorMetadata("openai", new Uri("https://api.example.com/v1"), "text-embedding-3-small"));
        using var cache = new SemanticCacheChatClient(
            new RouterChatClient([Routes.Of("local", Answering("ok"), d => new RouteDescriptor(d.Name) { IsLocal = true })]), remoteEmbeddings);

        await cache.GetResponseAsync(Prompt("My medical record says…"), new ChatOptions().KeepOnDevice());
        await cache.GetResponseAsync(Prompt("An ordinary question"));

        remoteEmbeddings.Embedded.Should().Equal("An ordinary question");
    }

    private sealed class Unserialisable
    {
        public Unserialisable Self => this; // a cycle: JSON cannot serialise it
    }
}

/// <summary>Deterministic pseudo-embeddings (a random unit vector seeded by the text): cheap stand-ins where the model's quality is not the point.</summary>
internal sealed class HashEmbeddingGenerator(EmbeddingGeneratorMetadata? metadata = null) : IEmbeddingGenerator<string, Embedding<float>>
{
    public List<string> Embedded { get; } = [];

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            lock (Embedded)
            {
                Embedded.Add(value);
            }

            result.Add(new Embedding<float>(RandomVectors.Normalized(new Random(StableHash(value)), 384)));
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(EmbeddingGeneratorMetadata) ? metadata : null;

    public void Dispose()
    {
    }

    private static int StableHash(string text)
    {
        int hash = 17;
        foreach (char c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }
}
