using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using InferenceRouter.TestServer;
using Microsoft.ML.Tokenizers;
using AnthropicRequest = Anthropic.Models.Messages.MessageCreateParams;
using OllamaRequest = OllamaSharp.Models.Chat.ChatRequest;
using OpenAIRequest = OpenAI.Chat.ChatCompletionOptions;

namespace InferenceRouter.Tests.Budgets;

/// <summary>
/// The input a budget reserves before a call is at least what the provider then bills for it, whatever the request holds (issue 21):
/// each message's role and author name, images on every listed model, and what a raw request carries of its own.
/// </summary>
public class BilledInputBoundTests
{
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private static readonly string[] Scripts =
    [
        "The quick brown fox jumps over the lazy dog. ",
        "東京都の天気は晴れです。",
        "Привет, как дела? ",
        "مرحبا بالعالم ",
        "😀👍🏽 emoji ",
        "   \t\n  ",
        "a",
    ];

    [Fact]
    public async Task The_input_reserved_bounds_what_OpenAI_bills_for_every_messages_role_name_and_text()
    {
        // OpenAI's count ("How to count tokens with tiktoken"): 3 a message, every field's tokens (role, content, name), 1 more a name, 3 to prime.
        await using var server = await FakeProviderServer.StartAsync("gpt", new ServerBehavior { Billing = body => (CookbookPromptTokens(body), 1) });
        var random = new Random(2103);
        int admitted = 0;
        for (int i = 0; i < 60; i++)
        {
            var prompt = RandomPrompt(random, out var options);
            bool exact = random.Next(2) == 0;

            // $1 a token: amounts are token counts. First what the provider bills, then the same call under a limit near the bill (input
            // plus one output token): below it the call must be refused, at or above it the exact count admits it.
            long billed = (await Budgeted(server, exact, limit: 100_000_000m).Client.GetResponseAsync(prompt, options)).Usage!.InputTokenCount!.Value;
            decimal limit = billed + 1 + (random.Next(2) == 0 ? random.Next(0, 8) : -random.Next(1, (int)Math.Min(billed / 2, 40) + 1));
            var (client, budget) = Budgeted(server, exact, limit);
            try
            {
                await client.GetResponseAsync(prompt, options);
                admitted++;
            }
            catch (BudgetExceededException)
            {
                // Refusing a call that would have fit is conservative; spending past the limit is what must never happen.
            }

            var balance = (await budget.Ledger.GetBalancesAsync()).Single();
            balance.Spent.Should().BeLessThanOrEqualTo(balance.Limit, $"call {i} ({prompt.Count} messages, {(exact ? "exact" : "upper-bound")} counter) was billed {billed} input tokens");
            budget.Dispose();
        }

        admitted.Should().BeGreaterThan(3, "with the exact counter a limit at or a little above the bill admits the call");
    }

    [Fact]
    public async Task Images_reserve_at_least_what_each_listed_OpenAI_model_bills_for_its_largest_image()
    {
        // OpenAI's vision guide: tile models bill a base plus 8 tiles of 512 px at most (an image fitted within 2048 x 2048, its short side
        // at most 768); patch models 1,536 patches at most, times the model's multiplier. Worked out here, apart from the catalog.
        var largestImage = new Dictionary<string, int>
        {
            ["gpt-5"] = 70 + (8 * 140),
            ["gpt-5-chat-latest"] = 70 + (8 * 140),
            ["gpt-5-mini"] = (int)Math.Ceiling(1536 * 1.62),
            ["gpt-5-nano"] = (int)Math.Ceiling(1536 * 2.46),
            ["gpt-4.1"] = 85 + (8 * 170),
            ["gpt-4.1-mini"] = (int)Math.Ceiling(1536 * 1.62),
            ["gpt-4.1-nano"] = (int)Math.Ceiling(1536 * 2.46),
            ["gpt-4o"] = 85 + (8 * 170),
            ["gpt-4o-2024-05-13"] = 85 + (8 * 170),
            ["gpt-4o-mini"] = 2_833 + (8 * 5_667),
            ["o3"] = 75 + (8 * 150),
            ["o4-mini"] = (int)Math.Ceiling(1536 * 1.72),
        };
        var imageModels = ModelCatalog.Default.Models.Where(m => m.Key.StartsWith("gpt", StringComparison.Ordinal) || m.Key.StartsWith('o'))
            .Where(m => m.Value.Capabilities?.HasFlag(RouteCapabilities.Images) == true).Select(m => m.Key).ToList();
        largestImage.Keys.Should().Contain(imageModels, "every OpenAI model the catalog lists as taking images is checked");

        var random = new Random(7);
        foreach (var (model, perImage) in largestImage)
        {
            int images = random.Next(1, 4);
            long reserved = -1;
            using var budget = new BudgetManager(Options(100_000_000m));
            await using var server = await FakeProviderServer.StartAsync(model, new ServerBehavior
            {
                Billing = _ =>
                {
                    reserved = ReservedTokens(budget);
                    return ((images * perImage) + 20, 1);
                },
            });
            var route = new ChatRoute(new RouteDescriptor(model) { ModelId = model, Pricing = new RoutePricing(1_000_000m, 0m) }, server.CreateChatClient(model));
            using IChatClient client = new BudgetChatClient(new RouterChatClient([route]), budget);
            var contents = new List<AIContent> { new TextContent("Describe these.") };
            for (int k = 0; k < images; k++)
            {
                contents.Add(random.Next(2) == 0
                    ? new UriContent(new Uri($"https://example.com/photo-{k}-2048x768.png"), "image/png")
                    : new DataContent(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "image/png"));
            }

            var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, contents)], new ChatOptions { MaxOutputTokens = 1 });

            reserved.Should().BeGreaterThanOrEqualTo(response.Usage!.InputTokenCount!.Value, $"{model}: {images} image(s) of up to {perImage} tokens each");
        }
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("ollama")]
    public async Task What_a_raw_request_carries_of_its_own_is_reserved_as_input(string sdk)
    {
        // The provider bills every string it is sent (one token a UTF-8 byte: more than any tokenizer makes), its own system prompt,
        // messages and tools included; the model's name is not input.
        await using var server = await FakeProviderServer.StartAsync("m");
        var random = new Random(sdk.Length);
        for (int i = 0; i < 12; i++)
        {
            string own = RandomText(random, random.Next(1, 20_000));
            long reserved = -1;
            using var budget = new BudgetManager(Options(100_000_000m));
            server.DefaultBehavior = new ServerBehavior { Billing = body => { reserved = ReservedTokens(budget); return ((int)StringBytes(body), 1); } };
            var client = sdk switch
            {
                "openai" => server.CreateChatClient("m"),
                "anthropic" => server.CreateAnthropicChatClient("m"),
                _ => server.CreateOllamaChatClient("m"),
            };
            var route = new ChatRoute(new RouteDescriptor("m") { ModelId = "m", Pricing = new RoutePricing(1_000_000m, 0m), Capabilities = RouteCapabilities.All }, client);
            using IChatClient budgeted = new BudgetChatClient(new RouterChatClient([route]), budget);
            var options = new ChatOptions { MaxOutputTokens = 10, RawRepresentationFactory = _ => RawRequestCarrying(sdk, own, random.Next(3)) };

            var response = await budgeted.GetResponseAsync("Hi", options);

            long billed = response.Usage!.InputTokenCount!.Value;
            billed.Should().BeGreaterThan(Encoding.UTF8.GetByteCount(own) / 2, $"{sdk}: the raw request's own text reached the provider");
            reserved.Should().BeGreaterThanOrEqualTo(billed, $"{sdk}, round {i}: the raw request carried {own.Length} characters of its own");
        }
    }

    private static object RawRequestCarrying(string sdk, string text, int where) => sdk switch
    {
        "openai" => OpenAIRawRequest(text, where),
        "anthropic" => where switch
        {
            0 => new AnthropicRequest { MaxTokens = 10, Messages = [], Model = "m", System = text },
            1 => new AnthropicRequest { MaxTokens = 10, Messages = [new Anthropic.Models.Messages.MessageParam(JsonSerializer.SerializeToElement(new { role = "user", content = text }))], Model = "m" },
            _ => new AnthropicRequest { MaxTokens = 10, Messages = [], Model = "m", StopSequences = [text] },
        },
        _ => new OllamaRequest { Messages = [new OllamaSharp.Models.Chat.Message(OllamaSharp.Models.Chat.ChatRole.System, text)] },
    };

    private static OpenAIRequest OpenAIRawRequest(string text, int where)
    {
        var raw = new OpenAIRequest();
        switch (where)
        {
            case 0:
                raw.Tools.Add(OpenAI.Chat.ChatTool.CreateFunctionTool("lookup", text, BinaryData.FromString("{\"type\":\"object\",\"properties\":{}}")));
                break;
            case 1:
                raw.ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat("answer", BinaryData.FromString(JsonSerializer.Serialize(new { type = "object", description = text })));
                break;
            default:
#pragma warning disable SCME0001 // the SDK's patch sets any field: here a prediction, billed as input
                raw.Patch.Set("$.prediction"u8, BinaryData.FromString(JsonSerializer.Serialize(new { type = "content", content = text })));
#pragma warning restore SCME0001
                break;
        }

        return raw;
    }

    private static List<ChatMessage> RandomPrompt(Random random, out ChatOptions options)
    {
        var roles = new[] { ChatRole.User, ChatRole.Assistant, ChatRole.System };
        var prompt = new List<ChatMessage>();
        int count = random.Next(3) == 0 ? random.Next(100, 400) : random.Next(1, 20);
        for (int m = 0; m < count; m++)
        {
            var role = m == count - 1 ? ChatRole.User : roles[random.Next(roles.Length)];
            prompt.Add(new ChatMessage(role, RandomText(random, random.Next(0, 30))) { AuthorName = random.Next(3) == 0 ? RandomText(random, random.Next(1, 64)) : null });
        }

        options = new ChatOptions { MaxOutputTokens = 1, Instructions = random.Next(2) == 0 ? RandomText(random, random.Next(1, 200)) : null };
        return prompt;
    }

    private static string RandomText(Random random, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(Scripts[random.Next(Scripts.Length)]);
        }

        return text.ToString(0, length).TrimEnd('\uD83D', '\uD83C'); // never end on half a surrogate pair
    }

    private static int CookbookPromptTokens(JsonObject body)
    {
        int total = 3;
        foreach (var message in body["messages"]!.AsArray())
        {
            total += 3;
            foreach (var (key, value) in message!.AsObject())
            {
                string text = value is JsonValue v && v.TryGetValue(out string? s) ? s : string.Concat(value!.AsArray().Select(p => (string?)p!["text"] ?? string.Empty));
                total += O200k.CountTokens(text) + (key == "name" ? 1 : 0);
            }
        }

        return total;
    }

    /// <summary>The UTF-8 bytes of every string the body holds (the model's name aside).</summary>
    private static long StringBytes(JsonNode? node, string? key = null) => node switch
    {
        JsonObject o => o.Sum(p => StringBytes(p.Value, p.Key)),
        JsonArray a => a.Sum(n => StringBytes(n)),
        JsonValue v when key != "model" && v.TryGetValue(out string? s) => Encoding.UTF8.GetByteCount(s),
        _ => 0,
    };

    /// <summary>What the budget holds reserved, in tokens, when input is priced $1 a token and output is free.</summary>
    private static long ReservedTokens(BudgetManager budget) => (long)budget.Ledger.GetBalancesAsync().AsTask().GetAwaiter().GetResult().Single().Reserved;

    private static (IChatClient Client, BudgetManager Budget) Budgeted(FakeProviderServer server, bool exact, decimal limit)
    {
        var budget = new BudgetManager(Options(limit));
        var descriptor = new RouteDescriptor("gpt")
        {
            ModelId = "gpt-4o-mini",
            Pricing = new RoutePricing(1_000_000m, 1_000_000m),
            TokenCounter = exact ? OpenAITokenCounters.ForModel("gpt-4o-mini") : null,
            Capabilities = RouteCapabilities.All,
        };
        return (new BudgetChatClient(new RouterChatClient([new ChatRoute(descriptor, server.CreateChatClient("gpt-4o-mini"))]), budget), budget);
    }

    private static BudgetOptions Options(decimal amount)
    {
        var options = new BudgetOptions();
        options.Limits.Add(new BudgetLimit { Amount = amount });
        return options;
    }
}
