using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Caching;

/// <summary>
/// Issue 22 item 4: a prompt whose embedding input lost information — characters the vocabulary maps to [UNK] (emoji, some scripts,
/// over-long words) or truncation — is exact-only, and the decision is visible (<see cref="EmbeddingProperties"/>, the lookup counter).
/// </summary>
[Collection(EmbeddingCollection.Name)]
public class UnseenCharactersTests(EmbeddingFixture fixture)
{
    // Scripts the all-MiniLM-L6-v2 (BERT uncased) vocabulary has no pieces for ([UNK]) or the tokenizer drops (Gothic), and some it has.
    private static readonly string[] s_unseenScripts = ["ᎠᏍᎦᏯ", "ᐃᓄᒃᑎᑐᑦ", "ⴰⵣⵓⵍ", "ꦲꦏ꧀ꦱꦫ", "𐌰𐌱𐌲", "안녕", "สวัสดี", "ሰላም", "ᚠᚢᚦ"];
    private static readonly string[] s_seenScripts = ["pomme", "café", "яблоко", "שלום", "مرحبا"];

    [Fact]
    public async Task Is_mushroom_safe_to_eat_is_never_answered_with_the_apple_answer()
    {
        var inner = TestChatClient.Answering("yes");
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

        // Without the salient-term check too: the embedder's own report must be enough.
        using var cache = new SemanticCacheChatClient(inner, fixture.Generator, options: new SemanticCacheOptions { RequireSalientAgreement = false }, meterFactory: meters);
        using var lookups = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.CacheLookupsInstrument);

        await cache.GetResponseAsync(Prompt("Is 🍎 safe to eat?"));
        var asked = await cache.GetResponseAsync(Prompt("Is 🍄 safe to eat?"));
        var again = await cache.GetResponseAsync(Prompt("Is 🍄 safe to eat?"));

        asked.GetRoutingInfo()?.CacheHit.Should().BeNull("the model never saw which fruit or fungus was asked about");
        again.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact, "such a prompt is still cached, exactly");
        inner.Calls.Should().Be(2);
        lookups.GetMeasurementSnapshot().Count(m => (string?)m.Tags["inference_router.cache.outcome"] == "unknown_tokens").Should().Be(2);
    }

    [Fact]
    public async Task Any_emoji_or_unseen_script_makes_the_embedding_report_unknown_tokens_and_seen_scripts_do_not()
    {
        var random = new Random(2206);
        var emoji = Enumerable.Range(0, 40).Select(_ => char.ConvertFromUtf32(0x1F300 + random.Next(0x1F64F - 0x1F300))).ToList();
        var texts = emoji.Select(e => $"Is {e} safe to eat?").Concat(s_unseenScripts.Select(w => $"What does {w} mean?")).Concat(s_seenScripts.Select(w => $"What does {w} mean?"))
            .Append("Is " + new string('a', 120) + " a word?").ToList();

        var embeddings = await fixture.Generator.GenerateAsync(texts);

        for (int i = 0; i < texts.Count; i++)
        {
            int unknown = (int)embeddings[i].AdditionalProperties![EmbeddingProperties.UnknownTokens]!;
            bool seen = i >= emoji.Count + s_unseenScripts.Length && i < texts.Count - 1;
            (unknown > 0).Should().Be(!seen, $"'{texts[i]}'");
        }
    }

    [Fact]
    public async Task Two_prompts_that_differ_only_in_unseen_characters_never_share_an_answer()
    {
        var random = new Random(2207);
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, messages.Last().Text)) { FinishReason = ChatFinishReason.Stop }),
        };
        using var cache = new SemanticCacheChatClient(inner, fixture.Generator, options: new SemanticCacheOptions { RequireSalientAgreement = false, MinMargin = 0 });
        for (int round = 0; round < 30; round++)
        {
            string a = Unseen(random), b = Unseen(random);
            string template = random.Next(2) == 0 ? "Is {0} safe for kids?" : "What does {0} mean in a message?";
            await cache.GetResponseAsync(Prompt(string.Format(template, a)));
            var asked = await cache.GetResponseAsync(Prompt(string.Format(template, b)));
            asked.Text.Should().Be(string.Format(template, b), $"'{a}' and '{b}' look alike only to the model");
            asked.GetRoutingInfo()?.CacheHit.Should().NotBe(CacheTier.Semantic);
        }
    }

    private static string Unseen(Random random) => random.Next(2) == 0
        ? char.ConvertFromUtf32(0x1F300 + random.Next(0x1F64F - 0x1F300))
        : s_unseenScripts[random.Next(s_unseenScripts.Length)];
}
