using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Budgets;

public class BudgetChatClientTests
{
    // $1 per 1M input, $2 per 1M output: 1,000 in + 500 out = $0.002.
    private static readonly RoutePricing Price = new(1m, 2m, CachedInputPerMillion: 0.5m);

    internal static BudgetManager Budget(TimeProvider? time = null, params BudgetLimit[] limits) => new(TestModelOptions(limits), timeProvider: time);

    /// <summary>Budget options that price only "test-model": $1 per 1M input, $2 per 1M output.</summary>
    internal static BudgetOptions TestModelOptions(params BudgetLimit[] limits)
    {
        var options = new BudgetOptions { UseDefaultPriceCatalog = false };
        options.Prices["test-model"] = new ModelPrice { InputPerMillion = 1m, OutputPerMillion = 2m, CachedInputPerMillion = 0.5m };
        options.Limits.AddRange(limits);
        return options;
    }

    internal static TestChatClient WithUsage(long input = 1000, long output = 500, string text = "answer", long cached = 0) => new()
    {
        GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            Usage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output, CachedInputTokenCount = cached },
        }),
        GetStreamingResponseAsyncCallback = (_, _, token) => Stream(text, new UsageDetails { InputTokenCount = input, OutputTokenCount = output }, token),
    };

    internal static async IAsyncEnumerable<ChatResponseUpdate> Stream(string text, UsageDetails? usage, [EnumeratorCancellation] CancellationToken token = default)
    {
        foreach (var word in text.Split(' '))
        {
            await Task.Yield();
            token.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, word + " ");
        }

        if (usage is not null)
        {
            yield return new ChatResponseUpdate { Contents = [new UsageContent(usage)] };
        }
    }

    private static ChatOptions Model(int maxOutput = 1000) => new() { ModelId = "test-model", MaxOutputTokens = maxOutput };

    [Fact]
    public async Task Each_response_carries_its_cost_from_usage_with_cached_input_at_its_price()
    {
        using var budget = Budget(limits: new BudgetLimit { Scope = BudgetScope.Global, Amount = 1m });
        using var client = new BudgetChatClient(WithUsage(input: 1000, output: 500, cached: 400), budget);

        var response = await client.GetResponseAsync(Prompt(), Model());

        var cost = response.GetCost()!;
        cost.Amount.Should().Be(((600 * 1m) + (400 * 0.5m) + (500 * 2m)) / 1_000_000m);
        cost.IsEstimated.Should().BeFalse();
        cost.ModelId.Should().Be("test-model");
        var balance = (await budget.Ledger.GetBalancesAsync()).Single();
        balance.Spent.Should().Be(cost.Amount);
        balance.Reserved.Should().Be(0m);
    }

    [Fact]
    public async Task Without_usage_the_cost_is_counted_with_the_tokenizer_and_marked_estimated()
    {
        using var budget = Budget();
        using var client = new BudgetChatClient(TestChatClient.Answering("one two three four"), budget);

        var cost = (await client.GetResponseAsync(Prompt("How are you?"), Model())).GetCost()!;

        cost.IsEstimated.Should().BeTrue();
        cost.InputTokens.Should().Be(PromptTokens.ReplyPrimingTokens + PromptTokens.TokensPerMessage + "user".Length + "How are you?".Length, "a model without a tokenizer is counted at its upper bound: one token per UTF-8 byte of the text and the role");
        cost.OutputTokens.Should().Be("one two three four".Length);
        cost.Amount.Should().BeGreaterThan(0m);
    }

    [Fact]
    public async Task A_call_over_the_limit_is_rejected_with_every_number_in_the_message_and_never_sent()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var budget = Budget(time, new BudgetLimit { Scope = BudgetScope.Tenant, Window = BudgetWindow.Day, Amount = 0.003m });
        var inner = WithUsage();
        using var client = new BudgetChatClient(inner, budget);
        var acme = Model().ForTenant("acme");

        await client.GetResponseAsync(Prompt(), acme); // spends $0.002

        var act = () => client.GetResponseAsync(Prompt(), acme);
        var error = (await act.Should().ThrowAsync<BudgetExceededException>()).Which;
        error.Message.Should().Contain("tenant 'acme'").And.Contain("day starting 2026-11-27 00:00Z").And.Contain("limit 0.003").And.Contain("spent 0.002")
            .And.Contain("reserved by calls in flight 0").And.Contain("worst case 0.0020");
        error.Scope.Should().Be(BudgetScope.Tenant);
        error.Window.Should().Be(BudgetWindow.Day);
        inner.Calls.Should().Be(1);

        (await client.GetResponseAsync(Prompt(), Model().ForTenant("other"))).GetCost().Should().NotBeNull("each tenant has its own limit");
        time.Advance(TimeSpan.FromDays(1));
        (await client.GetResponseAsync(Prompt(), acme)).GetCost().Should().NotBeNull("a new day starts a new window");
    }

    [Fact]
    public void Calendar_windows_start_at_midnight_in_the_configured_time_zone()
    {
        var limit = new BudgetLimit { Window = BudgetWindow.Day, Amount = 1m };
        var now = new DateTimeOffset(2026, 11, 27, 23, 30, 0, TimeSpan.Zero);
        BudgetOptions.TryFindTimeZone("Europe/Paris", out var paris).Should().BeTrue();

        limit.GetWindowStart(now, TimeZoneInfo.Utc).Should().Be(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));
        limit.GetWindowStart(now, paris).Should().Be(new DateTimeOffset(2026, 11, 27, 23, 0, 0, TimeSpan.Zero), "00:30 on the 28th in Paris");
        new BudgetLimit { Window = BudgetWindow.Month, Amount = 1m }.GetWindowStart(now, paris).Should().Be(new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), "1 November, midnight in Paris");
    }

    [Theory]
    [InlineData(429, false)] // the provider refused before generating: it bills nothing
    [InlineData(null, true)] // failed once sent (no status: a reset, a drop): it may have run, so it is charged
    [InlineData(500, true)]
    public async Task A_failed_call_is_released_only_when_the_provider_refused_it_else_charged_its_reservation(int? status, bool charged)
    {
        using var budget = Budget(limits: new BudgetLimit { Amount = 1m });
        var error = new HttpRequestException("down", null, (System.Net.HttpStatusCode?)status);
        using var client = new BudgetChatClient(TestChatClient.Failing(error), budget);

        await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt(), Model())).Should().ThrowAsync<HttpRequestException>();

        var balance = (await budget.Ledger.GetBalancesAsync()).Single();
        balance.Reserved.Should().Be(0m);
        var report = await budget.GetReportAsync();
        if (charged)
        {
            report.Routes.Single().OutputTokens.Should().Be(1000, "what was reserved: the whole output limit");
            balance.Spent.Should().Be(report.Routes.Single().Cost).And.BeGreaterThan(0m);
        }
        else
        {
            balance.Spent.Should().Be(0m);
            report.Routes.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task A_stream_settles_from_its_usage_and_the_last_update_carries_the_cost()
    {
        using var budget = Budget(limits: new BudgetLimit { Amount = 1m });
        using var client = new BudgetChatClient(WithUsage(input: 1000, output: 500, text: "a b c"), budget);

        var updates = await client.GetStreamingResponseAsync(Prompt(), Model()).ToListAsync();

        var cost = updates[^1].GetCost()!;
        cost.Amount.Should().Be(0.002m);
        updates.ToChatResponse().GetCost().Should().BeSameAs(cost);
        (await budget.Ledger.GetBalancesAsync()).Single().Should().Match<BudgetAccountBalance>(b => b.Spent == 0.002m && b.Reserved == 0m);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(25)]
    [InlineData(4096)] // the default: more than the 1,000 reserved, so all that was reserved
    public async Task A_stream_abandoned_part_way_is_charged_for_what_arrived_plus_the_allowance_and_holds_nothing(int allowance)
    {
        var options = TestModelOptions(new BudgetLimit { Amount = 1m });
        options.UnreceivedOutputAllowance = allowance;
        using var budget = new BudgetManager(options);
        using var client = new BudgetChatClient(WithUsage(text: "one two three four five six"), budget);

        await foreach (var update in client.GetStreamingResponseAsync(Prompt(), Model()))
        {
            break; // the reader stops after the first word
        }

        var report = await budget.GetReportAsync();
        report.Accounts.Single().Reserved.Should().Be(0m);
        report.Routes.Single().Calls.Should().Be(1);
        // "one " arrived, counted as its 4 UTF-8 bytes (no tokenizer without a router); the provider may have generated the allowance more,
        // never beyond the limit it was sent.
        report.Routes.Single().OutputTokens.Should().Be(Math.Min(4 + allowance, 1000));
        report.Accounts.Single().Spent.Should().Be(report.Routes.Single().Cost).And.BeGreaterThan(0m);
    }

    [Fact]
    public async Task Thresholds_fire_once_per_crossing()
    {
        using var budget = Budget(limits: new BudgetLimit { Name = "g", Amount = 0.01m });
        var crossed = new List<double>();
        budget.ThresholdCrossed += (_, e) => crossed.Add(e.Threshold);
        using var client = new BudgetChatClient(WithUsage(), budget); // $0.002 per call

        for (int i = 0; i < 4; i++)
        {
            await client.GetResponseAsync(Prompt(), Model(maxOutput: 100));
        }

        crossed.Should().Equal(0.5, 0.8); // 20%, 40%, 60% (crosses 50%), 80% (crosses 80%)
    }

    [Fact]
    public async Task An_unpriced_model_is_refused_with_the_fix_or_free_when_configured()
    {
        using var strict = Budget();
        using var client = new BudgetChatClient(WithUsage(), strict);
        await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt(), new ChatOptions { ModelId = "mystery-1" }))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*'mystery-1' has no price*Budgets:Prices*UnknownModelPricing*");

        using var lenient = new BudgetManager(new BudgetOptions { UnknownModelPricing = UnknownModelPricing.Free });
        using var free = new BudgetChatClient(WithUsage(), lenient);
        (await free.GetResponseAsync(Prompt(), new ChatOptions { ModelId = "mystery-1" })).GetCost()!.Amount.Should().Be(0m);
    }

    [Fact]
    public void Bad_limits_and_prices_are_refused_at_startup_naming_the_value()
    {
        var options = new BudgetOptions();
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Amount = 0m });
        options.Limits.Add(new BudgetLimit { Window = BudgetWindow.Rolling, Amount = 1m });
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tag, Key = "premium", Amount = 1m });
        options.Prices["bad"] = new ModelPrice { InputPerMillion = -1m };
        options.TimeZone = "Mars/Olympus";

        FluentActions.Invoking(() => new BudgetManager(options)).Should().Throw<ArgumentException>()
            .WithMessage("*Limits:0:Amount is 0*Limits:1:RollingHours is 0*Limits:2:Key is 'premium'*key=value*Prices:bad has a negative price*TimeZone 'Mars/Olympus'*");
    }

    [Fact]
    public void The_default_catalog_prices_dated_model_versions_by_their_family()
    {
        ModelCatalog.Default.TryGetPrice("gpt-4o-mini-2024-07-18", out var mini).Should().BeTrue();
        mini.Should().Be(ModelCatalog.Default.Prices["gpt-4o-mini"]);
        ModelCatalog.Default.TryGetPrice("openai/gpt-4.1", out var full).Should().BeTrue();
        full!.InputPerMillion.Should().Be(2.00m);
        ModelCatalog.Default.TryGetPrice("gpt-4o-minimal", out _).Should().BeFalse("an id the catalog does not list is never priced as a relative");
        ModelCatalog.Default.TryGetPrice("gpt-4omni", out _).Should().BeFalse();

        using var json = new MemoryStream("{ \"models\": { \"x\": { \"inputPerMillion\": -2 } } }"u8.ToArray());
        FluentActions.Invoking(() => ModelCatalog.Load(json)).Should().Throw<ArgumentException>().WithMessage("*Model 'x'*InputPerMillion is -2*zero or more*");
        using var broken = new MemoryStream("{ models: "u8.ToArray());
        FluentActions.Invoking(() => ModelCatalog.Load(broken)).Should().Throw<InvalidDataException>();
    }
}
