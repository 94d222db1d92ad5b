using System.Net;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Routing;

public class RouterChatClientTests
{
    [Fact]
    public async Task First_route_answers_and_routing_info_says_so()
    {
        var a = TestChatClient.Answering("from a");
        var b = TestChatClient.Answering("from b");
        using var router = Router(Of("a", a), Of("b", b));

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("from a");
        b.Calls.Should().Be(0);
        var info = response.GetRoutingInfo()!;
        info.Route.Should().Be("a");
        info.ModelId.Should().Be("a-model");
        info.AttemptCount.Should().Be(1);
        info.Attempts.Single().Outcome.Should().Be(RouteAttemptOutcome.Succeeded);
        router.GetRoute("a").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Successes == 1 && h.InFlight == 0 && h.Attempts == 1);
    }

    [Fact]
    public async Task Transient_failure_fails_over_in_order()
    {
        var a = TestChatClient.Failing(new HttpRequestException("unavailable", null, HttpStatusCode.ServiceUnavailable));
        var b = TestChatClient.Failing(new TimeoutException("slow"));
        var c = TestChatClient.Answering("from c");
        using var router = Router(Of("a", a), Of("b", b), Of("c", c));

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("from c");
        var info = response.GetRoutingInfo()!;
        info.Attempts.Select(x => (x.Route, x.Outcome)).Should().Equal(
            ("a", RouteAttemptOutcome.Failed), ("b", RouteAttemptOutcome.Failed), ("c", RouteAttemptOutcome.Succeeded));
        info.Attempts[0].StatusCode.Should().Be(503);
        router.GetRoute("a").Health.GetSnapshot().Failures.Should().Be(1);
    }

    [Fact]
    public async Task Non_transient_failure_surfaces_without_failover()
    {
        var error = new HttpRequestException("bad request", null, HttpStatusCode.BadRequest);
        var b = TestChatClient.Answering("from b");
        using var router = Router(Of("a", TestChatClient.Failing(error)), Of("b", b));

        var act = () => router.GetResponseAsync(Prompt());

        (await act.Should().ThrowAsync<HttpRequestException>()).Which.Should().BeSameAs(error);
        b.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Non_transient_failure_fails_over_when_configured()
    {
        var b = TestChatClient.Answering("from b");
        using var router = Router(
            new RouterOptions { FailoverOnNonTransientErrors = true },
            Of("a", TestChatClient.Failing(new HttpRequestException("forbidden", null, HttpStatusCode.Forbidden))),
            Of("b", b));

        (await router.GetResponseAsync(Prompt())).Text.Should().Be("from b");
    }

    [Fact]
    public async Task All_routes_failing_throws_one_exception_listing_each_attempt()
    {
        using var router = Router(
            Of("a", TestChatClient.Failing(new HttpRequestException("down", null, HttpStatusCode.BadGateway))),
            Of("b", TestChatClient.Failing(new TimeoutException("too slow"))));

        var act = () => router.GetResponseAsync(Prompt());

        var error = (await act.Should().ThrowAsync<AllRoutesFailedException>()).Which;
        error.Attempts.Select(x => x.Route).Should().Equal("a", "b");
        error.Message.Should().Contain("a Failed after").And.Contain("HTTP 502").And.Contain("b Failed after").And.Contain("too slow");
        error.InnerException.Should().BeOfType<TimeoutException>();
    }

    [Fact]
    public async Task MaxAttempts_limits_the_failover_depth()
    {
        var c = TestChatClient.Answering("from c");
        using var router = Router(
            new RouterOptions { MaxAttempts = 2 },
            Of("a", TestChatClient.Failing(new TimeoutException("1"))),
            Of("b", TestChatClient.Failing(new TimeoutException("2"))),
            Of("c", c));

        var act = () => router.GetResponseAsync(Prompt());

        (await act.Should().ThrowAsync<AllRoutesFailedException>()).Which.Attempts.Should().HaveCount(2);
        c.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Caller_cancellation_stops_at_once_and_never_fails_over()
    {
        using var cts = new CancellationTokenSource();
        var a = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, token) =>
            {
                await cts.CancelAsync();
                await Task.Delay(Timeout.Infinite, token);
                return null!;
            },
        };
        var b = TestChatClient.Answering("from b");
        using var router = Router(Of("a", a), Of("b", b));

        var act = () => router.GetResponseAsync(Prompt(), cancellationToken: cts.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        b.Calls.Should().Be(0);
        router.GetRoute("a").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 1 && h.Failures == 0 && h.InFlight == 0);
    }

    [Fact]
    public async Task Attempt_timeout_is_a_transient_failure_not_a_cancellation()
    {
        var a = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, token) =>
            {
                await Task.Delay(Timeout.Infinite, token);
                return null!;
            },
        };
        using var router = Router(new RouterOptions { AttemptTimeout = TimeSpan.FromMilliseconds(50) }, Of("a", a), Of("b", TestChatClient.Answering("from b")));

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("from b");
        response.GetRoutingInfo()!.Attempts[0].Outcome.Should().Be(RouteAttemptOutcome.TimedOut);
        response.GetRoutingInfo()!.Attempts[0].Error.Should().BeOfType<TimeoutException>();
    }

    [Fact]
    public async Task Routing_hints_never_reach_the_provider_and_caller_options_stay_untouched()
    {
        var a = TestChatClient.Answering("ok");
        using var router = Router(Of("a", a));
        var options = new ChatOptions { Temperature = 0.5f }.WithPolicy("lowest-cost").RequireTag("region", "eu");
        options.AdditionalProperties!["custom"] = 42;
        router.GetRoute("a").Descriptor.Tags.Should().BeEmpty();

        var act = () => router.GetResponseAsync(Prompt(), options);

        // The only route lacks the tag: nothing may be sent.
        await act.Should().ThrowAsync<AllRoutesFailedException>().WithMessage("*no tag region=eu*");
        a.Calls.Should().Be(0);

        options = new ChatOptions { Temperature = 0.5f }.WithPolicy("lowest-cost");
        options.AdditionalProperties!["custom"] = 42;
        await router.GetResponseAsync(Prompt(), options);
        var sent = a.ReceivedOptions.Single()!;
        sent.Temperature.Should().Be(0.5f);
        sent.AdditionalProperties.Should().ContainKey("custom").And.NotContainKey(ChatOptionsRoutingExtensions.HintsKey);
        options.AdditionalProperties.Should().ContainKey(ChatOptionsRoutingExtensions.HintsKey, "the caller's options are not changed");
    }

    [Fact]
    public async Task Route_hint_pins_the_route_and_an_unknown_route_is_an_error()
    {
        var a = TestChatClient.Answering("a");
        var b = TestChatClient.Answering("b");
        using var router = Router(Of("a", a), Of("b", b));

        (await router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute("b"))).Text.Should().Be("b");

        var act = () => router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute("nope"));
        (await act.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*route 'nope'*Routes: a (a-model), b (b-model)*");
    }

    [Fact]
    public async Task ModelId_naming_a_route_or_model_restricts_candidates_and_the_provider_gets_its_own_model()
    {
        var a = TestChatClient.Answering("a");
        var b = TestChatClient.Answering("b");
        using var router = Router(Of("a", a), Of("b", b));

        (await router.GetResponseAsync(Prompt(), new ChatOptions { ModelId = "b" })).Text.Should().Be("b");
        b.ReceivedOptions.Last()!.ModelId.Should().Be("b-model", "the route name is not a model the provider knows");
        (await router.GetResponseAsync(Prompt(), new ChatOptions { ModelId = "b-model" })).Text.Should().Be("b");

        var act = () => router.GetResponseAsync(Prompt(), new ChatOptions { ModelId = "gpt-9" });
        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*ModelId is 'gpt-9'*");
    }

    [Fact]
    public async Task Ambient_scope_steers_calls_inside_it_only()
    {
        using var router = Router(Of("a", TestChatClient.Answering("a")), Of("b", TestChatClient.Answering("b"), d => new RouteDescriptor(d.Name) { Tags = new Dictionary<string, string> { ["region"] = "eu" } }));

        using (RoutingScope.Begin(new RoutingHints { RequiredTags = new Dictionary<string, string> { ["region"] = "eu" } }))
        {
            (await router.GetResponseAsync(Prompt())).Text.Should().Be("b");
        }

        (await router.GetResponseAsync(Prompt())).Text.Should().Be("a");
    }

    [Fact]
    public async Task Unknown_policy_in_a_hint_is_an_error_naming_the_known_ones()
    {
        using var router = Router(Of("a", TestChatClient.Answering("a")));
        var act = () => router.GetResponseAsync(Prompt(), new ChatOptions().WithPolicy("fastest-please"));
        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*'fastest-please'*lowest-latency*");
    }

    [Fact]
    public async Task Streaming_fails_over_before_the_first_update_and_reports_routing_info_last()
    {
        var a = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => Throwing(new HttpRequestException("down", null, HttpStatusCode.ServiceUnavailable)) };
        var b = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => Updates("Hel", "lo") };
        using var router = Router(Of("a", a), Of("b", b));

        var updates = await router.GetStreamingResponseAsync(Prompt()).ToListAsync();

        updates.Should().HaveCount(3);
        string.Concat(updates.Select(u => u.Text)).Should().Be("Hello");
        var info = updates[^1].GetRoutingInfo()!;
        info.Route.Should().Be("b");
        info.TimeToFirstToken.Should().NotBeNull();
        updates.ToChatResponse().GetRoutingInfo()!.Route.Should().Be("b");
        router.GetRoute("b").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Successes == 1 && h.InFlight == 0);
    }

    [Fact]
    public async Task Streaming_error_after_the_first_update_surfaces_without_failover()
    {
        var a = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => UpdatesThenThrow(new IOException("connection reset"), "Hel") };
        var b = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => Updates("never") };
        using var router = Router(Of("a", a), Of("b", b));
        var received = new List<string>();

        var act = async () =>
        {
            await foreach (var update in router.GetStreamingResponseAsync(Prompt()))
            {
                received.Add(update.Text);
            }
        };

        await act.Should().ThrowAsync<IOException>();
        received.Should().Equal("Hel");
        b.Calls.Should().Be(0);
        router.GetRoute("a").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Failures == 1 && h.InFlight == 0);
    }

    [Fact]
    public async Task Abandoning_a_stream_part_way_releases_the_route()
    {
        var a = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => Updates("1", "2", "3") };
        using var router = Router(Of("a", a));

        await foreach (var update in router.GetStreamingResponseAsync(Prompt()))
        {
            break;
        }

        router.GetRoute("a").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.InFlight == 0 && h.Cancellations == 1);
    }

    [Fact]
    public async Task Hedging_takes_the_faster_route_and_cancels_the_slower()
    {
        var slowCancelled = new TaskCompletionSource();
        var slow = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, token) =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                catch (OperationCanceledException)
                {
                    slowCancelled.SetResult();
                    throw;
                }

                return null!;
            },
        };
        using var router = Router(new RouterOptions { HedgingDelay = TimeSpan.FromMilliseconds(20) }, Of("slow", slow), Of("fast", TestChatClient.Answering("fast")));

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("fast");
        response.GetRoutingInfo()!.Hedged.Should().BeTrue();
        await slowCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => router.GetRoute("slow").Health.InFlight == 0, "the loser is accounted for");
        router.GetRoute("slow").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 1 && h.Failures == 0);
    }

    [Fact]
    public void Explain_lists_candidates_in_order_and_why_others_were_excluded()
    {
        using var router = Router(
            Of("cheap", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Pricing = new RoutePricing(0.1m, 0.4m), Capabilities = RouteCapabilities.Streaming }),
            Of("smart", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Pricing = new RoutePricing(2m, 8m), Capabilities = RouteCapabilities.All }),
            Of("mid", TestChatClient.Answering("x"), d => new RouteDescriptor(d.Name) { Pricing = new RoutePricing(0.5m, 1.5m), Capabilities = RouteCapabilities.All }));
        var options = new ChatOptions { Tools = [AIFunctionFactory.Create(() => 1, "one")] }.WithPolicy(RoutingPolicies.LowestCost);

        var explanation = router.Explain(Prompt(), options);

        explanation.Policy.Should().Be("lowest-cost");
        explanation.Candidates.Select(c => c.Route).Should().Equal("mid", "smart");
        var excluded = explanation.Routes.Single(r => r.Route == "cheap");
        excluded.Rank.Should().BeNull();
        excluded.ExclusionReason.Should().Be("lacks Tools");
        explanation.Routes.Single(r => r.Route == "mid").Verdicts.Should().Contain(v => v.Policy == "lowest-cost" && v.Score > 0);
        explanation.ToString().Should().Contain("#1 mid").And.Contain("-- cheap excluded: lacks Tools");
    }

    [Fact]
    public void GetService_finds_router_routes_and_health()
    {
        using var router = Router(Of("a", TestChatClient.Answering("a")));
        IChatClient client = new ChatClientBuilder(router).UseLogging(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).Build();

        client.GetService<RouterChatClient>().Should().BeSameAs(router);
        client.GetService<ChatRoute>("a")!.Name.Should().Be("a");
        client.GetService<RouteHealth>("a").Should().BeSameAs(router.GetRoute("a").Health);
        client.GetService<ChatRoute>("zzz").Should().BeNull();
    }

    [Fact]
    public void Constructor_rejects_bad_input_with_clear_messages()
    {
        var act = () => new RouterChatClient([]);
        act.Should().Throw<ArgumentException>().WithMessage("*at least one route*");

        act = () => new RouterChatClient([Of("a", TestChatClient.Answering("1")), Of("A", TestChatClient.Answering("2"))]);
        act.Should().Throw<ArgumentException>().WithMessage("*Two routes are named 'A'*");

        act = () => new RouterChatClient([Of("a", TestChatClient.Answering("1"))], new RouterOptions { DefaultPolicy = "nope" });
        act.Should().Throw<ArgumentException>().WithMessage("*DefaultPolicy 'nope'*");

        act = () => new RouterChatClient([Of("a", TestChatClient.Answering("1"))], new RouterOptions { AttemptTimeout = TimeSpan.Zero, MaxHedgedAttempts = 1 });
        act.Should().Throw<ArgumentException>().WithMessage("*AttemptTimeout*").WithMessage("*MaxHedgedAttempts*");

        var reused = Of("r", TestChatClient.Answering("1"));
        using var first = new RouterChatClient([reused]);
        act = () => new RouterChatClient([reused]);
        act.Should().Throw<InvalidOperationException>().WithMessage("*already belongs to a router*");

        var descriptor = () => new ChatRoute(new RouteDescriptor("neg") { Pricing = new RoutePricing(-1m, 1m) }, TestChatClient.Answering("1"));
        descriptor.Should().Throw<ArgumentException>().WithMessage("*negative price*");
    }

    [Fact]
    public void Dispose_disposes_route_clients()
    {
        var a = TestChatClient.Answering("a");
        var router = Router(Of("a", a));
        router.Dispose();
        router.Dispose(); // DI disposes the router directly and through the ChatClientBuilder pipeline
        a.DisposeCount.Should().Be(1);
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Updates(params string[] texts)
    {
        foreach (var text in texts)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, text) { ResponseId = "r1" };
        }
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> UpdatesThenThrow(Exception error, params string[] texts)
    {
        foreach (var text in texts)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, text);
        }

        throw error;
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Throwing(Exception error)
    {
        await Task.Yield();
        throw error;
#pragma warning disable CS0162 // An iterator needs a yield.
        yield break;
#pragma warning restore CS0162
    }
}
