using InferenceRouter.TestServer;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Caching;

/// <summary>Issue 22 items 1 and 6, with the real OpenAI SDK over loopback: exact means the request as sent; only complete answers are stored.</summary>
public class CacheExactnessTests
{
    private const string Loop = "total = 0\nfor x in xs:\n    total += x\n    print(total)";

    [Fact]
    public async Task A_whitespace_edit_to_code_is_never_a_hit_in_either_tier()
    {
        await using var server = await FakeProviderServer.StartAsync();
        // The pseudo-embedder sees the whitespace-collapsed text, as the real one does: whitespace variants embed at cosine 1.
        using var cache = new SemanticCacheChatClient(server.CreateChatClient(), new HashEmbeddingGenerator());
        var random = new Random(22);
        for (int round = 0; round < 40; round++)
        {
            var original = $"What does this print for xs = [{round}, {random.Next(1, 9)}]?\n```python\n{Loop}\n```";
            var edited = WhitespaceEdit(original, random);
            edited.Should().NotBe(original);
            (await cache.GetResponseAsync(original)).GetRoutingInfo()?.CacheHit.Should().BeNull();
            (await cache.GetResponseAsync(original)).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact, "the same request as sent is an exact hit");
            (await cache.GetResponseAsync(edited)).GetRoutingInfo()?.CacheHit.Should().BeNull($"a whitespace edit changes code: {Escape(original)} vs {Escape(edited)}");
        }

        foreach (var (a, b) in new[] { ("Is len('a  b') 4?", "Is len('a b') 4?"), ("key:\n  child: 1", "key:\nchild: 1"), ("Loop:\n" + Loop, "Loop:\n" + Loop.Replace("    print", "print", StringComparison.Ordinal)) })
        {
            await cache.GetResponseAsync(a);
            (await cache.GetResponseAsync(b)).GetRoutingInfo()?.CacheHit.Should().BeNull($"{Escape(a)} and {Escape(b)} are different requests");
        }

        (await cache.GetResponseAsync("What is the capital   of France?")).GetRoutingInfo()?.CacheHit.Should().BeNull();
        (await cache.GetResponseAsync("What is the capital of France?")).GetRoutingInfo()!.CacheHit
            .Should().Be(CacheTier.Semantic, "in one line of prose whitespace carries no meaning: the semantic tier may still match it");
    }

    [Fact]
    public void The_exact_key_is_the_question_as_sent_up_to_unicode_normalisation()
    {
        string? Key(params string[] parts) => CacheRequest.Create([new ChatMessage(ChatRole.User, [.. parts.Select(p => (AIContent)new TextContent(p))])], null, CallContext.Capture(null), false).Key;
        Key("café").Should().Be(Key("cafe\u0301"), "canonically equivalent text (NFC) is one question");
        Key("a  b").Should().NotBe(Key("a b"));
        Key("a b ").Should().NotBe(Key("a b"));
        Key("ab").Should().NotBe(Key("a", "b"), "two text parts are sent as two parts");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stream_cut_without_a_finish_reason_is_never_stored(bool throughRouter)
    {
        await using var server = await FakeProviderServer.StartAsync();
        const string Cut = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Do take ibuprofen\"},\"finish_reason\":null}]}\n\n" +
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" with alcohol\"},\"finish_reason\":null}]}\n\n";
        server.Enqueue(new ServerBehavior { RawBody = Cut });
        IChatClient below = throughRouter ? Router(new RouterOptions { CircuitBreaker = { Enabled = false } }, Of("openai", server.CreateChatClient())) : server.CreateChatClient();
        using var cache = new SemanticCacheChatClient(below);
        const string Question = "Can I take ibuprofen with alcohol?";

        try
        {
            await cache.GetStreamingResponseAsync(Question).ToChatResponseAsync();
        }
        catch (Exception e) when (throughRouter)
        {
            e.Should().NotBeNull("the router may fail a cut stream itself (RequireFinishReason); either way nothing is stored");
        }

        cache.Store.Count.Should().Be(0, "an answer without a finish reason may be partial");
        var complete = await cache.GetStreamingResponseAsync(Question).ToChatResponseAsync();
        complete.GetRoutingInfo()?.CacheHit.Should().BeNull();
        server.RequestCount.Should().BeGreaterThanOrEqualTo(2);
        (await cache.GetResponseAsync(Question)).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact, "the complete answer was stored");
    }

    [Fact]
    public async Task A_response_without_a_finish_reason_or_with_error_content_is_never_stored()
    {
        // (The OpenAI SDK itself refuses a non-streamed body without a finish reason; other clients pass it on.)
        var unfinished = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Half an ans"))) };
        using var cache = new SemanticCacheChatClient(unfinished);
        (await cache.GetResponseAsync("Question one?")).Text.Should().Be("Half an ans");
        (await cache.GetResponseAsync("Question one?")).GetRoutingInfo()?.CacheHit.Should().BeNull();
        unfinished.Calls.Should().Be(2);

        var erring = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [new TextContent("Partial"), new ErrorContent("upstream reset")])) { FinishReason = ChatFinishReason.Stop }),
            GetStreamingResponseAsyncCallback = (_, _, _) => new[] { new ChatResponseUpdate(ChatRole.Assistant, "Partial"), new ChatResponseUpdate(ChatRole.Assistant, [new ErrorContent("upstream reset")]) { FinishReason = ChatFinishReason.Stop } }.ToAsyncEnumerable(),
        };
        using var erringCache = new SemanticCacheChatClient(erring);
        await erringCache.GetResponseAsync("Question two?");
        await erringCache.GetStreamingResponseAsync("Question three?").ToChatResponseAsync();
        erringCache.Store.Count.Should().Be(0);

        foreach (var reason in new[] { ChatFinishReason.ContentFilter, ChatFinishReason.ToolCalls, new ChatFinishReason("error") })
        {
            CachedChatResponse.From(new ChatResponse(new ChatMessage(ChatRole.Assistant, "x")) { FinishReason = reason }, storeTruncated: true).Should().BeNull();
        }

        CachedChatResponse.From(new ChatResponse(new ChatMessage(ChatRole.Assistant, "x")) { FinishReason = ChatFinishReason.Length }).Should().BeNull();
        CachedChatResponse.From(new ChatResponse(new ChatMessage(ChatRole.Assistant, "x")) { FinishReason = ChatFinishReason.Length }, storeTruncated: true).Should().NotBeNull();
    }

    /// <summary>One random whitespace edit: indent or dedent a line, double a space, join two lines, or add a trailing newline.</summary>
    private static string WhitespaceEdit(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        int line = random.Next(1, lines.Count);
        switch (random.Next(5))
        {
            case 0:
                lines[line] = "    " + lines[line];
                break;
            case 1:
                lines[line] = lines[line].StartsWith("    ", StringComparison.Ordinal) ? lines[line][4..] : " " + lines[line];
                break;
            case 2:
                int space = lines[line].IndexOf(' ', StringComparison.Ordinal);
                lines[line] = space < 0 ? lines[line] + " " : lines[line].Insert(space, " ");
                break;
            case 3:
                lines[line - 1] += " " + lines[line].TrimStart();
                lines.RemoveAt(line);
                break;
            default:
                lines[^1] += "\n";
                break;
        }

        return string.Join('\n', lines);
    }

    private static string Escape(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal);
}
