using System.Text;
using System.Text.Json.Nodes;
using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.Tokenizers;
using static InferenceRouter.Tests.Routes;
using AnthropicRequest = Anthropic.Models.Messages.MessageCreateParams;
using OllamaRequest = OllamaSharp.Models.Chat.ChatRequest;
using OpenAIRequest = OpenAI.Chat.ChatCompletionOptions;

namespace InferenceRouter.Tests.Budgets;

/// <summary>
/// What a budget reserves bounds what is sent and billed (issue 21 items 3-5): a raw request cannot raise the output limit, text that
/// looks like a tokenizer's special tokens is counted as the text it is billed as, and media reserve their kind's stated bound.
/// </summary>
public class ReservedBoundsTests
{
    [Fact]
    public async Task A_raw_ChatCompletionOptions_cannot_raise_the_reserved_output_limit_through_the_OpenAI_SDK()
    {
        await using var server = await FakeProviderServer.StartAsync("gpt");
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 100m }));
        using IChatClient client = Budgeted(budget, new ChatRoute(Priced("gpt", "gpt-4.1-mini"), server.CreateChatClient("gpt-4.1-mini")));
        var random = new Random(21);

        for (int i = 0; i < 40; i++)
        {
            int reserved = random.Next(1, 500);
            int asked = random.Next(reserved + 1, 64_000);
            int shape = random.Next(5);
            var options = new ChatOptions
            {
                MaxOutputTokens = reserved,
                RawRepresentationFactory = _ =>
                {
#pragma warning disable SCME0001 // the SDK's patch is one of the ways a caller sets any field
                    var raw = new OpenAIRequest();
                    switch (shape)
                    {
                        case 0: raw.MaxOutputTokenCount = asked; break;
                        case 1: raw.Patch.Set("$.max_tokens"u8, asked); break;
                        case 2: raw.Patch.Set("$.max_completion_tokens"u8, asked); break;
                        case 3: raw.Temperature = 0.5f; break; // a raw request that says nothing of the output limit
                        default: return null;
                    }
#pragma warning restore SCME0001
                    return raw;
                },
            };

            if (random.Next(2) == 0)
            {
                await client.GetResponseAsync("Hi", options);
            }
            else
            {
                await client.GetStreamingResponseAsync("Hi", options).ToListAsync();
            }

            var body = server.Requests.Last().Body;
            OutputLimitOf(body, "max_completion_tokens").Should().BeLessThanOrEqualTo(reserved, $"raw shape {shape} asked for {asked}");
            OutputLimitOf(body, "max_tokens").Should().BeLessThanOrEqualTo(reserved, $"raw shape {shape} asked for {asked}");
            ((long?)body["max_completion_tokens"] ?? (long?)body["max_tokens"]).Should().NotBeNull($"raw shape {shape}: a request sent without an output limit may bill the model's whole maximum");
        }
    }

    [Fact]
    public async Task A_raw_request_asking_for_several_choices_is_refused_before_it_is_sent()
    {
        await using var server = await FakeProviderServer.StartAsync("gpt");
        using IChatClient client = new RouterChatClient([new ChatRoute(Priced("gpt", "gpt-4.1-mini"), server.CreateChatClient("gpt-4.1-mini"))]);
        var options = new ChatOptions
        {
            MaxOutputTokens = 100,
#pragma warning disable SCME0001
            RawRepresentationFactory = _ => { var raw = new OpenAIRequest(); raw.Patch.Set("$.n"u8, 3); return raw; },
#pragma warning restore SCME0001
        };

        var call = () => client.GetResponseAsync("Hi", options);

        (await call.Should().ThrowAsync<Exception>()).Which.ToString().Should().Contain("n = 3");
        server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task A_raw_MessageCreateParams_cannot_raise_the_reserved_output_limit_through_the_Anthropic_SDK()
    {
        await using var server = await FakeProviderServer.StartAsync("claude");
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 100m }));
        using IChatClient client = Budgeted(budget, new ChatRoute(Priced("claude", "claude-test"), server.CreateAnthropicChatClient("claude-test")));
        var random = new Random(3);

        for (int i = 0; i < 20; i++)
        {
            int reserved = random.Next(1, 500);
            long asked = random.Next(reserved + 1, 64_000);
            var options = new ChatOptions { MaxOutputTokens = reserved, RawRepresentationFactory = _ => new AnthropicRequest { MaxTokens = asked, Messages = [], Model = "claude-test" } };

            await client.GetResponseAsync("Hi", options);

            OutputLimitOf(server.Requests.Last().Body, "max_tokens").Should().Be(reserved, $"the raw request asked for {asked}");
        }
    }

    [Fact]
    public async Task A_raw_ChatRequest_cannot_raise_or_unbound_the_reserved_output_limit_through_OllamaSharp()
    {
        await using var server = await FakeProviderServer.StartAsync("llama");
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 100m }));
        using IChatClient client = Budgeted(budget, new ChatRoute(Priced("llama", "llama-test"), server.CreateOllamaChatClient("llama-test")));
        var random = new Random(5);

        for (int i = 0; i < 20; i++)
        {
            int reserved = random.Next(1, 500);
            int asked = random.Next(3) switch { 0 => -1, 1 => -2, _ => random.Next(reserved + 1, 64_000) }; // -1: until it stops; -2: fill the context
            var options = new ChatOptions
            {
                MaxOutputTokens = reserved,
                RawRepresentationFactory = _ => new OllamaRequest { Options = new OllamaSharp.Models.RequestOptions { NumPredict = asked } },
            };

            await client.GetResponseAsync("Hi", options);

            int? sent = (int?)server.Requests.Last().Body["options"]?["num_predict"];
            sent.Should().BeInRange(1, reserved, $"the raw request asked for {asked}");
        }
    }

    [Fact]
    public async Task On_a_client_that_does_not_hold_raw_requests_the_budget_reserves_the_routes_whole_window_and_maximum_output()
    {
        // $1 per 1M tokens: the limit holds 200 output tokens and a short prompt, not the route's 100,000 output or its 200,000-token window.
        var custom = BudgetChatClientTests.WithUsage(input: 10, output: 10);
        var route = Of("custom", custom, _ => Priced("custom", "custom-model", maxOutputTokens: 100_000, contextWindow: 200_000));
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 0.01m }));
        using IChatClient client = new BudgetChatClient(new RouterChatClient([route]), budget);

        await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 200 });
        var raw = () => client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 200, RawRepresentationFactory = _ => new object() });

        await raw.Should().ThrowAsync<BudgetExceededException>("the raw request's own limit and input may win on this client: the route's maximum is reserved");
        custom.Calls.Should().Be(1);
    }

    [Fact]
    public async Task On_a_client_that_does_not_hold_raw_requests_and_a_route_with_no_declared_maximum_a_reject_limit_refuses_the_call()
    {
        var custom = BudgetChatClientTests.WithUsage(input: 10, output: 10);
        var route = Of("custom", custom, _ => Priced("custom", "custom-model"));
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 10m, Enforcement = BudgetEnforcement.Reject }));
        using IChatClient client = new BudgetChatClient(new RouterChatClient([route]), budget);

        var raw = () => client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 200, RawRepresentationFactory = _ => new object() });

        (await raw.Should().ThrowAsync<InvalidOperationException>()).WithMessage("Route 'custom'*RawRepresentationFactory*AsRouteClient*MaxOutputTokens and ContextWindow*");
        custom.Calls.Should().Be(0);
        (await budget.Ledger.GetBalancesAsync()).Sum(b => b.Spent + b.Reserved).Should().Be(0m);
    }

    [Fact]
    public void Text_that_holds_special_token_strings_never_counts_fewer_tokens_than_the_encoding_bills_it_as_ordinary_text()
    {
        string[] fragments =
        [
            "<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|im_start|>", "<|im_end|>", "<|", "|>", "<", "|",
            "endoftext", "user\n", " ", "   ", "\n\n", "\t", "東京の天気", "الثعلب", "Съешь", "🦊🚀", "👩‍👩‍👧", "a", "The quick brown fox", "123456", "'s",
        ];
        var cases = new (ITokenCounter Counter, Tokenizer Ordinary)[] { (OpenAITokenCounters.O200kBase, OrdinaryTiktoken.O200kBase), (OpenAITokenCounters.Cl100kBase, OrdinaryTiktoken.Cl100kBase) };
        OrdinaryTiktoken.O200kBase.CountTokens("<|endoftext|>").Should().BeGreaterThan(1, "as ordinary text it is several tokens");
        var random = new Random(4);
        int violations = 0, checkedTexts = 0;

        for (int i = 0; i < 4_000; i++)
        {
            var text = new StringBuilder();
            for (int n = random.Next(1, 40); n > 0; n--)
            {
                text.Append(fragments[random.Next(fragments.Length)]);
            }

            var (counter, ordinary) = cases[i % cases.Length];
            int billed = ordinary.CountTokens(text.ToString());
            if (counter.CountTokens(text.ToString()) < billed)
            {
                violations++;
            }

            checkedTexts++;
        }

        checkedTexts.Should().Be(4_000);
        violations.Should().Be(0);
    }

    [Fact]
    public void Text_without_special_token_strings_is_still_counted_exactly()
    {
        var random = new Random(9);
        string[] fragments = ["東京の天気", " الثعلب", " Съешь", " 🦊🚀", " The quick brown fox", " 123456", "\n\n", "   "];
        for (int i = 0; i < 500; i++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 30)).Select(_ => fragments[random.Next(fragments.Length)]));
            OpenAITokenCounters.O200kBase.CountTokens(text).Should().Be(TiktokenTokenizer.CreateForEncoding("o200k_base").CountTokens(text));
        }
    }

    public static TheoryData<string, AIContent, long> Media() => new()
    {
        { "a PDF by URL", new UriContent("https://files.example/report.pdf", "application/pdf"), 250_000 },
        { "audio by URL", new UriContent("https://files.example/call.mp3", "audio/mpeg"), 115_200 },
        { "a video by URL", new UriContent("https://files.example/demo.mp4", "video/mp4"), 1_080_000 },
        { "a hosted file", new HostedFileContent("file-abc123"), 1_080_000 },
        { "a hosted PDF", new HostedFileContent("file-abc123") { MediaType = "application/pdf" }, 250_000 },
        { "an inline PDF", new DataContent(new byte[300], "application/pdf"), 250_000 },
        { "inline audio", new DataContent(new byte[300], "audio/wav"), 115_200 },
        { "an image by URL", new UriContent("https://files.example/cat.png", "image/png"), 2_500 },
    };

    [Theory]
    [MemberData(nameof(Media))]
    public async Task Media_reserve_their_kinds_stated_bound_never_their_URL_or_byte_length(string what, AIContent media, long bound)
    {
        foreach (bool routed in new[] { true, false })
        {
            // $1 per 1M input, nothing for output: the reservation's amount is the input tokens reserved, in millionths.
            var options = Options(new BudgetLimit { Amount = 100m });
            options.UseDefaultPriceCatalog = false;
            options.Prices["media-model"] = new ModelPrice { InputPerMillion = 1m, OutputPerMillion = 0m };
            using var budget = new BudgetManager(options);
            decimal reserved = -1;
            var provider = new TestChatClient
            {
                GetResponseAsyncCallback = async (_, _, _) =>
                {
                    reserved = (await budget.Ledger.GetBalancesAsync()).Single().Reserved;
                    return new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 1 } };
                },
            };
            IChatClient inner = routed ? new RouterChatClient([Of("media", provider, _ => new RouteDescriptor("media") { ModelId = "media-model", Capabilities = RouteCapabilities.All })]) : provider;
            using var client = new BudgetChatClient(inner, budget);

            await client.GetResponseAsync([new ChatMessage(ChatRole.User, [new TextContent("Summarise this."), media])], new ChatOptions { ModelId = "media-model", MaxOutputTokens = 1 });

            long tokens = (long)(reserved * 1_000_000m);
            tokens.Should().BeInRange(bound, bound + 40, $"{what} ({(routed ? "routed" : "direct")}) reserves its kind's bound plus the message's text and framing");
        }
    }

    [Fact]
    public async Task Media_bounds_are_configurable_and_validated_with_the_key_and_the_fix()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Routes:0:Name"] = "a",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = "http://127.0.0.1:9/v1",
            ["InferenceRouter:Routes:0:Model"] = "m",
            ["InferenceRouter:Routes:0:InputPricePerMillion"] = "1",
            ["InferenceRouter:Routes:0:OutputPricePerMillion"] = "1",
            ["InferenceRouter:Budgets:MediaTokens:Document"] = "25000",
            ["InferenceRouter:Budgets:MediaTokens:Video"] = "90000",
        }).Build();
        var collection = new ServiceCollection();
        collection.AddInferenceRouter(configuration.GetSection("InferenceRouter"));
        await using var services = collection.BuildServiceProvider();
        var bound = services.GetRequiredService<BudgetManager>().Options.MediaTokens;
        (bound.Document, bound.Video, bound.Audio).Should().Be((25_000, 90_000, 115_200));

        var invalid = new BudgetOptions();
        invalid.MediaTokens.Audio = 0;
        FluentActions.Invoking(() => new BudgetManager(invalid)).Should().Throw<ArgumentException>().WithMessage("*Budgets:MediaTokens:Audio is 0*positive*");
    }

    /// <summary>A budget over a router of one route.</summary>
    private static IChatClient Budgeted(BudgetManager budget, ChatRoute route) => new BudgetChatClient(new RouterChatClient([route]), budget);

    private static RouteDescriptor Priced(string name, string model, int? maxOutputTokens = null, int? contextWindow = null) =>
        new(name) { ModelId = model, Pricing = new RoutePricing(1m, 1m), Capabilities = RouteCapabilities.All, MaxOutputTokens = maxOutputTokens, ContextWindow = contextWindow };

    private static BudgetOptions Options(params BudgetLimit[] limits)
    {
        var options = new BudgetOptions();
        options.Limits.AddRange(limits);
        return options;
    }

    private static long OutputLimitOf(JsonObject body, string field) => (long?)body[field] ?? 0;
}
