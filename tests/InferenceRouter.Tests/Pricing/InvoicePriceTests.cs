using InferenceRouter.TestServer;

namespace InferenceRouter.Tests.Pricing;

/// <summary>
/// Issue 21 (the ledger is never below the invoice) through the real SDKs over loopback: Anthropic's prompt-cache writes, the
/// long-context tier, audio input. Prices are the shipped catalog's (no route prices them itself).
/// </summary>
public class InvoicePriceTests
{
    [Fact]
    public async Task Anthropic_cache_writes_and_reads_are_charged_at_least_their_invoice()
    {
        var random = new Random(2101);
        for (int i = 0; i < 12; i++)
        {
            long input = random.Next(1, 5_000), write5m = random.Next(0, 90_000), write1h = random.Next(0, 90_000), read = random.Next(0, 20_000), output = random.Next(1, 2_000);
            string usage = $"\"input_tokens\":{input},\"cache_creation_input_tokens\":{write5m + write1h},\"cache_read_input_tokens\":{read}," +
                $"\"cache_creation\":{{\"ephemeral_5m_input_tokens\":{write5m},\"ephemeral_1h_input_tokens\":{write1h}}},\"output_tokens\":{output}";
            bool streaming = i % 2 == 1;
            string body = streaming
                ? "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{" + usage.Replace($"\"output_tokens\":{output}", "\"output_tokens\":1", StringComparison.Ordinal) + "}}}\n\n" +
                  "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
                  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n" +
                  "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
                  "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{" + usage + "}}\n\n" +
                  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
                : "{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{" + usage + "}}";
            await using var server = await FakeProviderServer.StartAsync("claude", new ServerBehavior { RawBody = body, RawContentType = streaming ? "text/event-stream" : "application/json" });
            using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 1_000m }));
            using IChatClient client = Budgeted(budget, new ChatRoute(new RouteDescriptor("claude") { ModelId = "claude-sonnet-4" }, server.CreateAnthropicChatClient("claude-sonnet-4")));

            if (streaming)
            {
                await client.GetStreamingResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2_000 }).ToListAsync();
            }
            else
            {
                await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2_000 });
            }

            // Anthropic's list prices for Claude Sonnet 4 (per 1M): $3 input, $3.75 5-minute write, $6 1-hour write, $0.30 read, $15 output;
            // $6 / $7.50 / $12 / $0.60 / $22.50 above 200,000 prompt tokens.
            bool longPrompt = input + write5m + write1h + read > 200_000;
            decimal invoice = longPrompt
                ? ((input * 6m) + (write5m * 7.50m) + (write1h * 12m) + (read * 0.60m) + (output * 22.50m)) / 1_000_000m
                : ((input * 3m) + (write5m * 3.75m) + (write1h * 6m) + (read * 0.30m) + (output * 15m)) / 1_000_000m;
            decimal spent = (await budget.Ledger.GetBalancesAsync()).Sum(b => b.Spent);
            spent.Should().BeGreaterThanOrEqualTo(invoice, $"call {i} (streaming {streaming}): {input} in, {write5m}+{write1h} written, {read} read, {output} out");
        }
    }

    [Theory]
    [InlineData(150_000)]
    [InlineData(200_000)]
    [InlineData(200_001)]
    [InlineData(450_000)]
    public async Task Gemini_25_pro_is_charged_its_long_context_price_above_200k_prompt_tokens(int billedInput)
    {
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 100m }));
        using IChatClient client = Budgeted(budget, new ChatRoute(new RouteDescriptor("gemini") { ModelId = "gemini-2.5-pro" }, new ReportingClient(new UsageDetails { InputTokenCount = billedInput, OutputTokenCount = 1_000 })));

        var response = await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 1_000 });
        decimal invoice = billedInput > 200_000 ? ((billedInput * 2.50m) + (1_000 * 15m)) / 1_000_000m : ((billedInput * 1.25m) + (1_000 * 10m)) / 1_000_000m;
        response.GetCost()!.Amount.Should().Be(invoice, "the catalog's tier prices are the invoice's");
        (await budget.Ledger.GetBalancesAsync()).Sum(b => b.Spent).Should().Be(invoice);
    }

    [Fact]
    public async Task A_prompt_whose_bound_is_past_the_long_context_threshold_is_reserved_at_the_tier_so_no_limit_is_exceeded()
    {
        // 250,000 bytes: the cheap bound (a token per byte) is past 200,000. At base prices the call reserves 0.3225, at the tier 0.64.
        const int billed = 250_000;
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 0.50m, Enforcement = BudgetEnforcement.Reject }));
        var route = new RouteDescriptor("gemini") { ModelId = "gemini-2.5-pro", TokenCounter = TokenCounters.UpperBound };
        using IChatClient client = Budgeted(budget, new ChatRoute(route, new ReportingClient(new UsageDetails { InputTokenCount = billed, OutputTokenCount = 1_000 })));

        Exception? denied = null;
        try
        {
            await client.GetResponseAsync(new string('a', billed), new ChatOptions { MaxOutputTokens = 1_000 });
        }
        catch (BudgetExceededException e)
        {
            denied = e;
        }

        var balance = (await budget.Ledger.GetBalancesAsync()).Single();
        balance.Spent.Should().BeLessThanOrEqualTo(balance.Limit, "no limit is ever exceeded");
        denied.Should().NotBeNull("the call's worst case (0.64 at the long-context prices) does not fit the 0.50 limit");
    }

    [Fact]
    public async Task Gemini_audio_input_reported_by_the_OpenAI_compatible_usage_is_charged_its_audio_price()
    {
        var random = new Random(2103);
        for (int i = 0; i < 8; i++)
        {
            int audio = random.Next(1, 100_000), text = random.Next(1, 5_000), output = random.Next(1, 1_000);
            string body = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gemini-2.5-flash\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}]," +
                $"\"usage\":{{\"prompt_tokens\":{audio + text},\"completion_tokens\":{output},\"total_tokens\":{audio + text + output},\"prompt_tokens_details\":{{\"cached_tokens\":0,\"audio_tokens\":{audio}}}}}}}";
            await using var server = await FakeProviderServer.StartAsync("gemini", new ServerBehavior { RawBody = body, RawContentType = "application/json" });
            using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 100m }));
            using IChatClient client = Budgeted(budget, new ChatRoute(new RouteDescriptor("gemini") { ModelId = "gemini-2.5-flash" }, server.CreateChatClient("gemini-2.5-flash")));

            await client.GetResponseAsync([new ChatMessage(ChatRole.User, [new TextContent("Transcribe."), new DataContent(new byte[64], "audio/wav")])], new ChatOptions { MaxOutputTokens = 1_000 });
            decimal invoice = ((audio * 1.00m) + (text * 0.30m) + (output * 2.50m)) / 1_000_000m; // Gemini 2.5 Flash: audio $1.00, text $0.30, output $2.50
            (await budget.Ledger.GetBalancesAsync()).Sum(b => b.Spent).Should().Be(invoice, $"call {i}: {audio} audio and {text} text tokens in, {output} out");
        }
    }

    [Fact]
    public async Task Audio_input_the_usage_does_not_split_is_charged_at_the_audio_price()
    {
        using var budget = new BudgetManager(Options(new BudgetLimit { Amount = 5m }));
        using IChatClient client = Budgeted(budget, new ChatRoute(new RouteDescriptor("gemini") { ModelId = "gemini-2.5-flash" }, new ReportingClient(new UsageDetails { InputTokenCount = 115_200, OutputTokenCount = 100 })));

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, [new UriContent(new Uri("https://example.com/meeting-1h.mp3"), "audio/mpeg")])], new ChatOptions { MaxOutputTokens = 1_000 });
        decimal worstInvoice = ((115_200 * 1.00m) + (100 * 2.50m)) / 1_000_000m; // every input token may be audio
        (await budget.Ledger.GetBalancesAsync()).Sum(b => b.Spent).Should().BeGreaterThanOrEqualTo(worstInvoice);
    }

    private static IChatClient Budgeted(BudgetManager budget, ChatRoute route) => new BudgetChatClient(new RouterChatClient([route]), budget);

    private static BudgetOptions Options(params BudgetLimit[] limits)
    {
        var options = new BudgetOptions();
        options.Limits.AddRange(limits);
        return options;
    }

    /// <summary>A provider that answers every call with the usage it is given (as a Gemini or other adapter would report it).</summary>
    private sealed class ReportingClient(UsageDetails usage) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { FinishReason = ChatFinishReason.Stop, Usage = usage });

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
