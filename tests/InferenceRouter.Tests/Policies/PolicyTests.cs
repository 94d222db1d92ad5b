using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Policies;

public class PolicyTests
{
    [Fact]
    public void Weighted_random_puts_routes_first_in_proportion_to_weight()
    {
        using var router = Router(
            Of("heavy", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Weight = 3 }),
            Of("light", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Weight = 1 }));
        var options = new ChatOptions().WithPolicy(RoutingPolicies.WeightedRandom);

        int heavyFirst = Enumerable.Range(0, 10_000).Count(_ => router.Explain(Prompt(), options).Candidates.First().Route == "heavy");

        // Expected 0.75; the band is ±7 standard deviations of 10,000 draws.
        (heavyFirst / 10_000.0).Should().BeApproximately(0.75, 0.03);
    }

    [Fact]
    public void Context_window_filter_counts_tokens_only_near_the_limit_and_excludes_what_does_not_fit()
    {
        using var router = Router(
            Of("small", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { ModelId = "gpt-4o-mini", ContextWindow = 100 }),
            Of("large", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { ModelId = "gpt-4o", ContextWindow = 128_000 }));

        router.Explain(Prompt("short question")).Candidates.Select(c => c.Route).Should().Equal("small", "large");

        var longPrompt = Prompt(string.Join(' ', Enumerable.Repeat("word", 200)));
        var explanation = router.Explain(longPrompt, new ChatOptions { MaxOutputTokens = 50 });
        explanation.Candidates.Select(c => c.Route).Should().Equal("large");
        explanation.Routes.Single(r => r.Route == "small").Verdicts.Single().Verdict.Should().MatchRegex(@"excluded: prompt \d+ \+ output 50 tokens exceed the 100-token window");
    }

    [Fact]
    public void Tiktoken_counter_counts_exactly_and_models_without_a_tokenizer_get_the_upper_bound()
    {
        var messages = Prompt("The quick brown fox jumps over the lazy dog.");
        long exact = PromptTokens.Count(OpenAITokenCounters.O200kBase, messages, null);
        exact.Should().Be(10 + 1 + PromptTokens.TokensPerMessage + PromptTokens.ReplyPrimingTokens, "ten tokens of text, the role 'user' one token, and the framing");
        OpenAITokenCounters.ForModel("gpt-4.1-mini").Should().BeSameAs(OpenAITokenCounters.O200kBase);
        OpenAITokenCounters.ForModel("gpt-4").Should().BeSameAs(OpenAITokenCounters.Cl100kBase);
        OpenAITokenCounters.ForModel("llama-3.3-70b").Should().BeSameAs(TokenCounters.UpperBound);
        PromptTokens.Count(TokenCounters.UpperBound, messages, null).Should().BeGreaterThanOrEqualTo(exact);
    }

    [Fact]
    public void Max_cost_filter_excludes_routes_whose_worst_case_exceeds_the_ceiling()
    {
        using var router = Router(
            Of("pricey", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Pricing = new RoutePricing(10m, 30m) }),
            Of("unpriced", TestChatClient.Answering("x")),
            Of("cheap", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Pricing = new RoutePricing(0.1m, 0.4m) }),
            Of("local", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { IsLocal = true }));

        var explanation = router.Explain(Prompt(), new ChatOptions { MaxOutputTokens = 1000 }.WithMaxCost(0.001m));

        explanation.Candidates.Select(c => c.Route).Should().Equal("cheap", "local");
        explanation.Routes.Single(r => r.Route == "pricey").ExclusionReason.Should().StartWith("worst case");
        explanation.Routes.Single(r => r.Route == "unpriced").ExclusionReason.Should().Be("price unknown");
    }

    [Fact]
    public void Tag_filter_requires_and_excludes_tags()
    {
        using var router = Router(
            Of("us", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Tags = new Dictionary<string, string> { ["region"] = "us" } }),
            Of("eu", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Tags = new Dictionary<string, string> { ["region"] = "eu", ["tier"] = "premium" } }),
            Of("eu-basic", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Tags = new Dictionary<string, string> { ["region"] = "EU" } }));

        router.Explain(Prompt(), new ChatOptions().RequireTag("region", "eu")).Candidates.Select(c => c.Route).Should().Equal("eu", "eu-basic");
        router.Explain(Prompt(), new ChatOptions().RequireTag("region", "eu").ExcludeTag("tier")).Candidates.Select(c => c.Route).Should().Equal("eu-basic");
        router.Explain(Prompt(), new ChatOptions().RequireTag("tier")).Candidates.Select(c => c.Route).Should().Equal("eu");
    }

    [Fact]
    public async Task Lowest_latency_ranks_by_measured_latency_and_unmeasured_routes_first()
    {
        var time = new FakeTimeProvider();
        TestChatClient Slow(int ms) => new()
        {
            GetResponseAsyncCallback = (_, _, _) =>
            {
                time.Advance(TimeSpan.FromMilliseconds(ms));
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "x")));
            },
        };
        using var router = new RouterChatClient(
            [Of("slow", Slow(300)), Of("fast", Slow(20)), Of("new", Slow(50))],
            new RouterOptions { DefaultPolicy = RoutingPolicies.LowestLatency, LatencyExplorationRate = 0 },
            timeProvider: time);

        foreach (var route in new[] { "slow", "slow", "fast" })
        {
            await router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute(route));
        }

        // "fast" was measured once, by its cold first call: it is measured again before it is ranked.
        router.Explain(Prompt()).Candidates.Select(c => c.Route).Should().Equal("fast", "new", "slow");
        await router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute("fast"));
        router.Explain(Prompt()).Candidates.Select(c => c.Route).Should().Equal("new", "fast", "slow");
        router.GetRoute("slow").Health.GetSnapshot().Latency.Should().Be(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Least_in_flight_and_power_of_two_prefer_idle_routes()
    {
        using var router = Router(Of("a", TestChatClient.Answering("x")), Of("b", TestChatClient.Answering("x")));
        router.GetRoute("a").Health.OnAttemptStarted(TimeProvider.System.GetTimestamp());
        router.GetRoute("a").Health.OnAttemptStarted(TimeProvider.System.GetTimestamp());

        router.Explain(Prompt(), new ChatOptions().WithPolicy(RoutingPolicies.LeastInFlight)).Candidates.First().Route.Should().Be("b");
        Enumerable.Range(0, 50).Should().OnlyContain(_ => router.Explain(Prompt(), new ChatOptions().WithPolicy(RoutingPolicies.PowerOfTwoChoices)).Candidates.First().Route == "b");
    }

    [Fact]
    public void Local_routes_come_last_whatever_the_ranker_says()
    {
        using var router = Router(
            Of("local", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { IsLocal = true }),
            Of("remote", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Pricing = new RoutePricing(1m, 1m) }));

        router.Explain(Prompt(), new ChatOptions().WithPolicy(RoutingPolicies.LowestCost)).Candidates.Select(c => c.Route).Should().Equal("remote", "local");
    }

    [Fact]
    public async Task Custom_policy_is_selectable_by_name()
    {
        var reverse = new ReversePolicy();
        using var router = new RouterChatClient([Of("a", TestChatClient.Answering("a")), Of("b", TestChatClient.Answering("b"))], policies: [reverse]);

        (await router.GetResponseAsync(Prompt(), new ChatOptions().WithPolicy("reverse"))).Text.Should().Be("b");
        router.PolicyNames.Should().Contain("reverse");
    }

    [Fact]
    public void A_nan_score_is_rejected_with_the_policy_named()
    {
        using var router = new RouterChatClient([Of("a", TestChatClient.Answering("a"))], policies: [new NaNPolicy()]);
        var act = () => router.Explain(Prompt(), new ChatOptions().WithPolicy("nan"));
        act.Should().Throw<ArgumentException>().WithMessage("*Policy 'nan' gave route 'a' a NaN score*");
    }

    private sealed class ReversePolicy : IRoutingPolicy
    {
        public string Name => "reverse";

        public void Apply(RouteSelection selection)
        {
            for (int i = 0; i < selection.Count; i++)
            {
                selection.SetScore(i, this, -i);
            }
        }
    }

    private sealed class NaNPolicy : IRoutingPolicy
    {
        public string Name => "nan";

        public void Apply(RouteSelection selection) => selection.SetScore(0, this, double.NaN);
    }
}
