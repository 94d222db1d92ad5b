using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Caching;

/// <summary>The semantic cache with the real all-MiniLM-L6-v2 embeddings.</summary>
[Collection(EmbeddingCollection.Name)]
public class SemanticCacheTests(EmbeddingFixture fixture)
{
    private static TestChatClient Counting(string prefix = "answer") => new()
    {
        GetResponseAsyncCallback = (messages, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"{prefix} to: {messages.Last().Text}"))
        {
            FinishReason = ChatFinishReason.Stop,
            ModelId = "test-model",
            Usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 8, TotalTokenCount = 20 },
        }),
        GetStreamingResponseAsyncCallback = (messages, _, token) => StreamOf($"streamed answer to: {messages.Last().Text}", token),
    };

    private static async IAsyncEnumerable<ChatResponseUpdate> StreamOf(string text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token)
    {
        await foreach (var update in InferenceRouter.Tests.Budgets.BudgetChatClientTests.Stream(text, new UsageDetails { InputTokenCount = 5, OutputTokenCount = 4, TotalTokenCount = 9 }, token))
        {
            yield return update;
        }

        yield return new ChatResponseUpdate { FinishReason = ChatFinishReason.Stop }; // a complete stream says so
    }

    private SemanticCacheChatClient Cache(IChatClient inner, SemanticCacheOptions? options = null, TimeProvider? time = null, ICacheStore? store = null) =>
        new(inner, fixture.Generator, store, options, timeProvider: time);

    [Fact]
    public async Task A_paraphrase_is_answered_from_the_cache_at_no_cost_and_without_calling_the_model()
    {
        var inner = Counting();
        using var cache = Cache(inner);

        var first = await cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));
        var second = await cache.GetResponseAsync(Prompt("How do I learn Python quickly?"));

        inner.Calls.Should().Be(1);
        second.Text.Should().Be(first.Text);
        var info = second.GetRoutingInfo()!;
        info.CacheHit.Should().Be(CacheTier.Semantic);
        info.Similarity.Should().BeGreaterThan(0.9);
        info.ToString().Should().StartWith("cache hit");
        second.GetCost()!.Amount.Should().Be(0m);
        second.Usage!.OutputTokenCount.Should().Be(8, "the original usage is replayed");
        first.GetRoutingInfo().Should().BeNull("a miss is answered by the inner client");
    }

    [Fact]
    public async Task The_same_request_is_an_exact_hit_even_without_an_embedding_generator()
    {
        var inner = Counting();
        using var cache = new SemanticCacheChatClient(inner);

        await cache.GetResponseAsync(Prompt("What is the capital of France?"));
        var again = await cache.GetResponseAsync(Prompt("What is the capital of France?"));
        var spaced = await cache.GetResponseAsync(Prompt("  What is the   capital of France? "));

        again.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        spaced.GetRoutingInfo()?.CacheHit.Should().BeNull("the exact tier matches the request as sent, whitespace included");
        inner.Calls.Should().Be(2);
    }

    [Theory]
    [InlineData("How can I learn Python quickly?", "How can I learn Java quickly?")]
    [InlineData("Is coffee bad for your health?", "Is coffee not bad for your health?")]
    [InlineData("What was the population of Paris in 1990?", "What was the population of Paris in 2020?")]
    [InlineData("How do I cook rice?", "What is the tallest mountain in the world?")]
    public async Task A_different_question_is_not_served_someone_elses_answer(string stored, string asked)
    {
        var inner = Counting();
        using var cache = Cache(inner);

        await cache.GetResponseAsync(Prompt(stored));
        var response = await cache.GetResponseAsync(Prompt(asked));

        inner.Calls.Should().Be(2);
        response.Text.Should().Be($"answer to: {asked}");
    }

    [Fact]
    public async Task Tenants_instructions_earlier_turns_models_and_sampling_all_partition_the_cache()
    {
        var inner = Counting();
        using var cache = Cache(inner);
        const string question = "How can I learn Python quickly?";
        await cache.GetResponseAsync(Prompt(question), new ChatOptions().ForTenant("acme"));

        await cache.GetResponseAsync(Prompt(question), new ChatOptions().ForTenant("globex"));
        await cache.GetResponseAsync(Prompt(question), new ChatOptions { Instructions = "Answer like a pirate." }.ForTenant("acme"));
        await cache.GetResponseAsync([new ChatMessage(ChatRole.System, "You are terse."), new ChatMessage(ChatRole.User, question)], new ChatOptions().ForTenant("acme"));
        await cache.GetResponseAsync([new ChatMessage(ChatRole.User, "I know Java."), new ChatMessage(ChatRole.Assistant, "Good."), new ChatMessage(ChatRole.User, question)], new ChatOptions().ForTenant("acme"));
        await cache.GetResponseAsync(Prompt(question), new ChatOptions { ModelId = "other-model" }.ForTenant("acme"));
        await cache.GetResponseAsync(Prompt(question), new ChatOptions { Temperature = 1.2f }.ForTenant("acme"));
        await cache.GetResponseAsync(Prompt(question), new ChatOptions { ResponseFormat = ChatResponseFormat.Json }.ForTenant("acme"));
        inner.Calls.Should().Be(8, "no call may be answered from another context");

        var same = await cache.GetResponseAsync(Prompt("How do I learn Python quickly?"), new ChatOptions().ForTenant("acme"));
        same.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Semantic);
        inner.Calls.Should().Be(8);
    }

    [Fact]
    public async Task A_multi_turn_conversation_matches_only_the_same_history()
    {
        var inner = Counting();
        using var cache = Cache(inner);
        List<ChatMessage> history = [new(ChatRole.User, "I live in Oslo."), new(ChatRole.Assistant, "Nice city.")];

        await cache.GetResponseAsync([.. history, new ChatMessage(ChatRole.User, "How can I learn Python quickly?")]);
        var hit = await cache.GetResponseAsync([.. history, new ChatMessage(ChatRole.User, "How do I learn Python quickly?")]);
        await cache.GetResponseAsync([new ChatMessage(ChatRole.User, "I live in Rome."), history[1], new ChatMessage(ChatRole.User, "How do I learn Python quickly?")]);

        hit.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Semantic);
        inner.Calls.Should().Be(2);
    }

    [Fact]
    public async Task A_streamed_miss_is_stored_and_a_streamed_hit_replays_the_text_and_usage()
    {
        var inner = Counting();
        using var cache = Cache(inner);

        var first = await cache.GetStreamingResponseAsync(Prompt("How can I learn Python quickly?")).ToListAsync();
        var replay = await cache.GetStreamingResponseAsync(Prompt("How do I learn Python quickly?")).ToListAsync();
        var nonStreamed = await cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));

        inner.Calls.Should().Be(1);
        replay.ToChatResponse().Text.Should().Be(first.ToChatResponse().Text);
        replay[^1].GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Semantic);
        replay[^1].GetCost()!.Amount.Should().Be(0m);
        replay.SelectMany(u => u.Contents).OfType<UsageContent>().Single().Details.OutputTokenCount.Should().Be(4);
        nonStreamed.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
    }

    [Fact]
    public async Task Errors_tool_calls_and_truncated_answers_are_not_stored()
    {
        var failing = TestChatClient.Failing(new HttpRequestException("down"));
        using (var cache = Cache(failing))
        {
            await FluentActions.Awaiting(() => cache.GetResponseAsync(Prompt("Tell me a joke"))).Should().ThrowAsync<HttpRequestException>();
            cache.Store.Count.Should().Be(0);
        }

        var toolCalling = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("1", "weather")])) { FinishReason = ChatFinishReason.ToolCalls }),
        };
        using (var cache = Cache(toolCalling))
        {
            await cache.GetResponseAsync(Prompt("What's the weather?"));
            await cache.GetResponseAsync(Prompt("What's the weather?"));
            toolCalling.Calls.Should().Be(2);
        }

        var truncated = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Once upon a")) { FinishReason = ChatFinishReason.Length }),
        };
        using (var cache = Cache(truncated))
        {
            await cache.GetResponseAsync(Prompt("Tell me a story"));
            await cache.GetResponseAsync(Prompt("Tell me a story"));
            truncated.Calls.Should().Be(2);
        }
    }

    [Fact]
    public async Task Entries_expire_after_their_time_to_live_and_the_least_recently_used_go_first()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var inner = Counting();
        using var cache = Cache(inner, new SemanticCacheOptions { TimeToLive = TimeSpan.FromMinutes(10) }, time, new InMemoryCacheStore(2, time));

        await cache.GetResponseAsync(Prompt("What is the capital of France?"));
        time.Advance(TimeSpan.FromMinutes(11));
        await cache.GetResponseAsync(Prompt("What is the capital of France?"));
        inner.Calls.Should().Be(2, "the first answer expired");

        await cache.GetResponseAsync(Prompt("How do volcanoes form?"));
        await cache.GetResponseAsync(Prompt("What is the capital of France?")); // touch: France is now the most recent
        await cache.GetResponseAsync(Prompt("Why is the sea salty?"));        // evicts volcanoes
        inner.Calls.Should().Be(4);
        await cache.GetResponseAsync(Prompt("What is the capital of France?"));
        await cache.GetResponseAsync(Prompt("How do volcanoes form?"));
        inner.Calls.Should().Be(5, "only the least recently used entry was evicted");
        cache.Store.Count.Should().Be(2);
    }

    [Theory]
    [InlineData(2_000)]   // the default: long prompts never reach the semantic tier
    [InlineData(1_000_000)] // a generous limit: the generator's truncation flag still keeps them exact-only
    public async Task Prompts_longer_than_the_embedding_window_are_never_semantic_hits(int maxSemanticPromptCharacters)
    {
        var inner = Counting();
        using var cache = Cache(inner, new SemanticCacheOptions { MaxSemanticPromptCharacters = maxSemanticPromptCharacters });
        string contract = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"Clause {i}: the seller delivers the goods described in schedule {i % 9} in good order."));

        await cache.GetResponseAsync(Prompt(contract + " Who pays for shipping?"));
        var other = await cache.GetResponseAsync(Prompt(contract + " Can the buyer terminate early?"));
        var same = await cache.GetResponseAsync(Prompt(contract + " Who pays for shipping?"));

        other.GetRoutingInfo()?.CacheHit.Should().BeNull("the two prompts differ past the embedding window: the model must answer");
        other.Text.Should().EndWith("Can the buyer terminate early?");
        same.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact, "the exact tier still serves the very same prompt");
        inner.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Concurrent_identical_requests_call_the_model_once()
    {
        var release = new TaskCompletionSource<ChatResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inner = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => release.Task };
        using var cache = Cache(inner);

        var calls = Enumerable.Range(0, 10).Select(_ => cache.GetResponseAsync(Prompt("What is the speed of light?"))).ToList();
        await Eventually.TrueAsync(() => inner.Calls == 1, "the first request reaches the model");
        await Task.Delay(100);
        release.SetResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "299,792 km/s")) { FinishReason = ChatFinishReason.Stop });
        var responses = await Task.WhenAll(calls);

        inner.Calls.Should().Be(1);
        responses.Should().OnlyContain(r => r.Text == "299,792 km/s");
        responses.Count(r => r.GetRoutingInfo()?.CacheHit is not null).Should().Be(9);
    }

    [Fact]
    public async Task A_failing_embedding_generator_never_fails_the_call()
    {
        var inner = Counting();
        using var generator = new FailingEmbeddings();
        using var cache = new SemanticCacheChatClient(inner, generator);

        var response = await cache.GetResponseAsync(Prompt("Hello?"));

        response.Text.Should().Be("answer to: Hello?");
        cache.Store.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_failing_store_never_fails_the_call()
    {
        var inner = Counting();
        using var cache = new SemanticCacheChatClient(inner, fixture.Generator, new BrokenStore());

        var first = await cache.GetResponseAsync(Prompt("Hello?"));
        var streamed = await cache.GetStreamingResponseAsync(Prompt("Hello?")).ToListAsync();

        first.Text.Should().Be("answer to: Hello?");
        streamed.ToChatResponse().Text.Should().StartWith("streamed answer to: Hello?");
        inner.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Conversation_ids_images_and_empty_prompts_bypass_the_cache_and_hints_steer_single_calls()
    {
        var inner = Counting();
        using var cache = Cache(inner);

        await cache.GetResponseAsync(Prompt("Hi there"), new ChatOptions { ConversationId = "c1" });
        await cache.GetResponseAsync(Prompt("Hi there"), new ChatOptions { ConversationId = "c1" });
        await cache.GetResponseAsync([new ChatMessage(ChatRole.User, [new TextContent("What is this?"), new DataContent(new byte[] { 1, 2, 3 }, "image/png")])]);
        await cache.GetResponseAsync(Prompt("   "));
        inner.Calls.Should().Be(4);
        cache.Store.Count.Should().Be(0);

        await cache.GetResponseAsync(Prompt("Secret question"), new ChatOptions().NoStore());
        await cache.GetResponseAsync(Prompt("Secret question"));
        inner.Calls.Should().Be(6, "NoStore kept the first answer out");
        await cache.GetResponseAsync(Prompt("Secret question"), new ChatOptions().NoCache());
        inner.Calls.Should().Be(7, "NoCache asked the model again");
        inner.ReceivedOptions.Where(o => o is not null).Should().OnlyContain(o => o!.AdditionalProperties == null || !o.AdditionalProperties.ContainsKey(ChatOptionsCacheExtensions.CacheControlKey));
    }

    [Fact]
    public async Task An_answer_reported_unhelpful_is_not_served_that_way_again()
    {
        var inner = Counting();
        using var cache = Cache(inner);
        await cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));

        var semantic = await cache.GetResponseAsync(Prompt("How do I learn Python quickly?"));
        (await cache.ReportOutcomeAsync(semantic.GetRoutingInfo()!, helpful: false)).Should().BeTrue();
        var again = await cache.GetResponseAsync(Prompt("How do I learn Python quickly?"));
        again.GetRoutingInfo()?.CacheHit.Should().NotBe(CacheTier.Semantic, "the entry now requires a closer match than that one");

        var exact = await cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));
        exact.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        (await cache.ReportOutcomeAsync(exact.GetRoutingInfo()!, helpful: false)).Should().BeTrue();
        var fresh = await cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));
        fresh.GetRoutingInfo()?.CacheHit.Should().NotBe(CacheTier.Exact, "a bad answer is dropped (a paraphrase stored since may still answer)");
        (await cache.ReportOutcomeAsync(semantic.GetRoutingInfo()!, helpful: true)).Should().BeFalse("only unhelpful answers change an entry");
    }

    [Fact]
    public void Bad_options_are_refused_naming_the_setting() =>
        FluentActions.Invoking(() => new SemanticCacheChatClient(Counting(), options: new SemanticCacheOptions { MinSimilarity = 1.5, TimeToLive = TimeSpan.Zero }))
            .Should().Throw<ArgumentException>().WithMessage("*MinSimilarity is 1.5*TimeToLive is 00:00:00*");

    private sealed class BrokenStore : ICacheStore
    {
        public event Action<CacheEntry>? EntryRemoved
        {
            add { }
            remove { }
        }

        public int Count => 0;

        public ValueTask<CacheEntry?> GetAsync(string key, bool peek = false, CancellationToken cancellationToken = default) => throw new IOException("store unreachable");

        public ValueTask SetAsync(CacheEntry entry, CancellationToken cancellationToken = default) => throw new IOException("store unreachable");

        public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default) => throw new IOException("store unreachable");
    }

    private sealed class FailingEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("model crashed");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
