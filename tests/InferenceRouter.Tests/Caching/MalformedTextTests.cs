using InferenceRouter.TestServer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace InferenceRouter.Tests.Caching;

/// <summary>
/// Review F5: text that is not well-formed UTF-16 (a lone surrogate: text cut mid-emoji) never fails a call because the cache is there.
/// Wherever it stands in the request, the call bypasses the cache (the log says why); such an answer is never stored.
/// </summary>
public class MalformedTextTests
{
    private const string Question = "Is 🍄 safe to eat?";

    [Fact]
    public async Task A_lone_surrogate_anywhere_in_the_request_bypasses_the_cache_and_the_call_goes_through()
    {
        var random = new Random(2205);
        await using var server = await FakeProviderServer.StartAsync(defaultBehavior: new ServerBehavior { Text = "Only if you know the species." });
        var collector = new FakeLogCollector();
        using var logging = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(collector)).SetMinimumLevel(LogLevel.Debug));
        using var cache = new SemanticCacheChatClient(server.CreateChatClient(), loggerFactory: logging);
        var places = new (string Name, Func<string, (List<ChatMessage> Messages, ChatOptions? Options)> Make)[]
        {
            ("the prompt", bad => ([new(ChatRole.User, bad)], null)),
            ("an earlier turn", bad => ([new(ChatRole.User, bad), new(ChatRole.Assistant, "Which one?"), new(ChatRole.User, Question)], null)),
            ("the instructions", bad => ([new(ChatRole.User, Question)], new ChatOptions { Instructions = bad })),
            ("a property value", bad => ([new(ChatRole.User, Question)], new ChatOptions { AdditionalProperties = new() { ["note"] = bad } })),
            ("a property name", bad => ([new(ChatRole.User, Question)], new ChatOptions { AdditionalProperties = new() { [bad] = 1 } })),
            ("a second text part", bad => ([new(ChatRole.User, [new TextContent(Question), new TextContent(bad)])], null)),
        };

        for (int round = 0; round < 60; round++)
        {
            var (name, make) = places[random.Next(places.Length)];
            string bad = Cut(Question + " " + Guid.NewGuid().ToString("N")[..random.Next(1, 8)], random);
            int requestsBefore = server.RequestCount;
            collector.Clear();
            var (messages, options) = make(bad);

            var response = random.Next(2) == 0
                ? await cache.GetResponseAsync(messages, options)
                : await cache.GetStreamingResponseAsync(messages, options).ToChatResponseAsync();

            response.Text.Should().Be("Only if you know the species.", $"a lone surrogate in {name} is the model's business, not the cache's");
            server.RequestCount.Should().Be(requestsBefore + 1);
            collector.GetSnapshot().Select(r => r.Message).Should().Contain(m => m.Contains("Cache bypassed", StringComparison.Ordinal) && m.Contains("lone surrogate", StringComparison.Ordinal), $"the log says why ({name})");
        }

        cache.Store.Count.Should().Be(0, "no request with malformed text is stored");
    }

    [Fact]
    public async Task An_answer_with_a_lone_surrogate_is_served_but_never_stored()
    {
        // The SDKs cannot deliver one (JSON \uD83C decodes to U+FFFD), a client of one's own can.
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Cut mid-emoji \uD83C")) { FinishReason = ChatFinishReason.Stop }),
        };
        using var cache = new SemanticCacheChatClient(inner);

        (await cache.GetResponseAsync(Question)).Text.Should().Be("Cut mid-emoji \uD83C", "served as given");
        (await cache.GetResponseAsync(Question)).GetRoutingInfo()?.CacheHit.Should().BeNull();

        inner.Calls.Should().Be(2);
        cache.Store.Count.Should().Be(0, "a shared store's UTF-8 JSON would give it back as U+FFFD: not the answer as given");
    }

    [Fact]
    public void Surrogate_pairs_are_well_formed_and_lone_surrogates_are_not()
    {
        var random = new Random(2206);
        for (int round = 0; round < 2000; round++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(0, 40)).Select(_ => random.Next(5) == 0
                ? char.ConvertFromUtf32(random.Next(0x10000, 0x110000))
                : ((char)random.Next(0x20, 0x7F)).ToString()));
            Utf16Text.IsWellFormed(text).Should().BeTrue();
            Utf16Text.IsWellFormed(Cut(text, random)).Should().BeFalse();
        }
    }

    /// <summary>Puts a lone high or low surrogate somewhere in <paramref name="text"/> (never next to one that would pair it).</summary>
    private static string Cut(string text, Random random)
    {
        var chars = text.Where(c => !char.IsSurrogate(c)).ToList();
        chars.Insert(random.Next(chars.Count + 1), (char)(random.Next(2) == 0 ? random.Next(0xD800, 0xDC00) : random.Next(0xDC00, 0xE000)));
        return new string([.. chars]);
    }
}
