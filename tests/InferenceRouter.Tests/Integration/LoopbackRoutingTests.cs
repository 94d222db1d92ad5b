using Microsoft.Extensions.Time.Testing;
using InferenceRouter.TestServer;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Integration;

/// <summary>The router over the real OpenAI SDK talking to loopback OpenAI-compatible servers.</summary>
public class LoopbackRoutingTests
{
    [Fact]
    public async Task Fails_over_in_order_through_real_http_errors()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b", "c");
        servers[0].DefaultBehavior = ServerBehavior.Error(503);
        servers[1].DefaultBehavior = ServerBehavior.Error(500);
        using var router = new RouterChatClient(servers.Routes());

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("Hello from c");
        var info = response.GetRoutingInfo()!;
        info.Attempts.Select(a => (a.Route, a.StatusCode)).Should().Equal(("a", 503), ("b", 500), ("c", (int?)null));
        servers.Servers.Select(s => s.RequestCount).Should().Equal(1, 1, 1);
        response.Usage!.InputTokenCount.Should().Be(11);
        response.Usage.OutputTokenCount.Should().Be(7);
        info.ModelId.Should().Be("c-model");
    }

    [Fact]
    public async Task Retry_after_is_honoured_the_route_is_skipped_until_then()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].Enqueue(ServerBehavior.Error(429, retryAfterSeconds: 120));
        using var router = new RouterChatClient(servers.Routes());

        (await router.GetResponseAsync(Prompt())).Text.Should().Be("Hello from b");
        var second = await router.GetResponseAsync(Prompt());

        second.Text.Should().Be("Hello from b");
        servers[0].RequestCount.Should().Be(1, "route a asked to wait two minutes");
        router.GetRoute("a").Health.GetSnapshot().UnavailableUntil.Should().BeAfter(DateTimeOffset.UtcNow.AddSeconds(100));
        router.Explain(Prompt()).Routes.Single(r => r.Route == "a").ExclusionReason.Should().StartWith("asked to wait until");
    }

    [Fact]
    public async Task Circuit_opens_after_failures_and_recovers_after_the_break()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = ServerBehavior.Error(503);
        var options = new RouterOptions { CircuitBreaker = { MinimumThroughput = 2, FailureRatio = 0.5, BreakDuration = TimeSpan.FromSeconds(10) } };
        using var router = new RouterChatClient(servers.Routes(), options, timeProvider: time);

        for (int i = 0; i < 4; i++)
        {
            (await router.GetResponseAsync(Prompt())).Text.Should().Be("Hello from b");
        }

        servers[0].RequestCount.Should().Be(2, "the circuit opened after two failures");
        router.GetRoute("a").Health.CircuitState.Should().Be(RouteCircuitState.Open);

        servers[0].DefaultBehavior = ServerBehavior.Ok;
        time.Advance(TimeSpan.FromSeconds(11));
        (await router.GetResponseAsync(Prompt())).Text.Should().Be("Hello from a", "the half-open probe goes through and succeeds");
        router.GetRoute("a").Health.CircuitState.Should().Be(RouteCircuitState.Closed);
        (await router.GetResponseAsync(Prompt())).Text.Should().Be("Hello from a");
    }

    [Fact]
    public async Task Dropped_connection_and_malformed_body_fail_over()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b", "c");
        servers[0].DefaultBehavior = new ServerBehavior { Fault = ServerFault.DropBeforeResponse };
        servers[1].DefaultBehavior = new ServerBehavior { Fault = ServerFault.MalformedBody };
        using var router = new RouterChatClient(servers.Routes());

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("Hello from c");
        response.GetRoutingInfo()!.Attempts.Select(a => a.Outcome).Should().Equal(RouteAttemptOutcome.Failed, RouteAttemptOutcome.Failed, RouteAttemptOutcome.Succeeded);
    }

    [Fact]
    public async Task Unreachable_endpoint_fails_over()
    {
        await using var servers = await LoopbackServers.StartAsync("b");
        int deadPort;
        await using (var dead = await FakeProviderServer.StartAsync("dead"))
        {
            deadPort = dead.BaseUrl.Port;
        }

        var unreachable = new FakeProviderServerClient(new Uri($"http://127.0.0.1:{deadPort}/v1"));
        using var router = new RouterChatClient([new ChatRoute(new RouteDescriptor("dead"), unreachable.Create()), .. servers.Routes()]);

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("Hello from b");
        response.GetRoutingInfo()!.Attempts[0].Outcome.Should().Be(RouteAttemptOutcome.Failed);
    }

    [Fact]
    public async Task Non_transient_400_surfaces_as_the_sdk_exception()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = ServerBehavior.Error(400);
        using var router = new RouterChatClient(servers.Routes());

        var act = () => router.GetResponseAsync(Prompt());

        (await act.Should().ThrowAsync<System.ClientModel.ClientResultException>()).Which.Status.Should().Be(400);
        servers[1].RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task Streaming_fails_over_before_the_first_token_with_usage_and_routing_info()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = ServerBehavior.Error(502);
        servers[1].DefaultBehavior = new ServerBehavior { Text = "streamed words here", Chunks = 4 };
        using var router = new RouterChatClient(servers.Routes());

        var updates = await router.GetStreamingResponseAsync(Prompt()).ToListAsync();
        var response = updates.ToChatResponse();

        response.Text.Should().Be("streamed words here");
        response.Usage!.InputTokenCount.Should().Be(11);
        response.Usage.OutputTokenCount.Should().Be(7);
        var info = response.GetRoutingInfo()!;
        info.Route.Should().Be("b");
        info.Attempts.Select(a => a.Route).Should().Equal("a", "b");
        info.TimeToFirstToken.Should().BePositive();
        router.GetRoute("b").Health.GetSnapshot().TimeToFirstToken.Should().NotBeNull();
    }

    [Fact]
    public async Task Streaming_does_not_fail_over_after_the_first_token()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = new ServerBehavior { Fault = ServerFault.DropMidStream, DropAfterChunks = 2, Chunks = 5, Text = "abcdefghij" };
        using var router = new RouterChatClient(servers.Routes());
        var text = new System.Text.StringBuilder();

        var act = async () =>
        {
            await foreach (var update in router.GetStreamingResponseAsync(Prompt()))
            {
                text.Append(update.Text);
            }
        };

        await act.Should().ThrowAsync<Exception>();
        text.ToString().Should().StartWith("ab");
        servers[1].RequestCount.Should().Be(0);
        router.GetRoute("a").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Failures == 1 && h.InFlight == 0);
    }

    [Fact]
    public async Task Time_to_first_token_timeout_fails_over_to_a_faster_stream()
    {
        await using var servers = await LoopbackServers.StartAsync("slow", "fast");
        servers[0].DefaultBehavior = new ServerBehavior { TimeToFirstToken = TimeSpan.FromSeconds(60) };
        using var router = new RouterChatClient(servers.Routes(), new RouterOptions { TimeToFirstTokenTimeout = TimeSpan.FromSeconds(2) });

        var response = await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync();

        response.Text.Should().Be("Hello from fast");
        response.GetRoutingInfo()!.Attempts[0].Outcome.Should().Be(RouteAttemptOutcome.TimedOut);
        await Eventually.TrueAsync(() => servers[0].AbortedRequests == 1, "the slow server sees the request abandoned");
    }

    [Fact]
    public async Task Caller_cancellation_stops_the_call_and_tries_no_other_route()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = new ServerBehavior { Latency = TimeSpan.FromSeconds(30) };
        using var router = new RouterChatClient(servers.Routes());
        using var cts = new CancellationTokenSource();

        var call = router.GetResponseAsync(Prompt(), cancellationToken: cts.Token);
        await Eventually.TrueAsync(() => servers[0].ActiveRequests == 1, "the request reached server a");
        await cts.CancelAsync();

        await call.Invoking(c => c).Should().ThrowAsync<OperationCanceledException>();
        servers[1].RequestCount.Should().Be(0);
        await Eventually.TrueAsync(() => servers[0].AbortedRequests == 1, "server a sees the request abandoned");
        router.GetRoute("a").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 1 && h.InFlight == 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Hedging_takes_the_faster_route_and_cancels_the_other(bool streaming)
    {
        await using var servers = await LoopbackServers.StartAsync("slow", "fast");
        servers[0].DefaultBehavior = new ServerBehavior { Latency = TimeSpan.FromSeconds(30) };
        using var router = new RouterChatClient(servers.Routes(), new RouterOptions { HedgingDelay = TimeSpan.FromMilliseconds(100) });

        var response = streaming
            ? await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync()
            : await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("Hello from fast");
        var info = response.GetRoutingInfo()!;
        info.Hedged.Should().BeTrue();
        info.Route.Should().Be("fast");
        await Eventually.TrueAsync(() => servers[0].AbortedRequests == 1, "the slower attempt is cancelled");
        await Eventually.TrueAsync(() => router.GetRoute("slow").Health.InFlight == 0, "the loser is accounted for");
    }

    [Fact]
    public async Task Policies_pick_the_cheapest_the_fastest_and_the_capable_route()
    {
        await using var servers = await LoopbackServers.StartAsync("pricey", "cheap", "plain");
        servers[0].DefaultBehavior = new ServerBehavior { Latency = TimeSpan.FromMilliseconds(5) };
        servers[1].DefaultBehavior = new ServerBehavior { Latency = TimeSpan.FromMilliseconds(400) };

        // Warm each server up (its first request compiles the endpoint) so measured latency is the scripted one.
        foreach (var server in servers.Servers)
        {
            await server.CreateChatClient().GetResponseAsync("warm-up");
        }

        var routes = servers.Routes((s, d) => new RouteDescriptor(d.Name)
        {
            ModelId = d.ModelId,
            Pricing = s.Name switch { "pricey" => new RoutePricing(5m, 15m), "cheap" => new RoutePricing(0.1m, 0.4m), _ => new RoutePricing(1m, 2m) },
            Capabilities = s.Name == "plain" ? RouteCapabilities.Streaming : RouteCapabilities.All,
        });
        using var router = new RouterChatClient(routes, new RouterOptions { LatencyExplorationRate = 0 });

        var cheapest = (await router.GetResponseAsync(Prompt(), new ChatOptions().WithPolicy(RoutingPolicies.LowestCost))).GetRoutingInfo()!;
        cheapest.Route.Should().Be("cheap", string.Join("; ", cheapest.Attempts));

        // Measure every route, then the fastest leads.
        for (int i = 0; i < 3; i++)
        {
            foreach (var name in new[] { "pricey", "cheap", "plain" })
            {
                await router.GetResponseAsync(Prompt(), new ChatOptions().WithRoute(name));
            }
        }

        (await router.GetResponseAsync(Prompt(), new ChatOptions().WithPolicy(RoutingPolicies.LowestLatency))).GetRoutingInfo()!.Route.Should().NotBe("cheap");
        router.Explain(Prompt(), new ChatOptions().WithPolicy(RoutingPolicies.LowestLatency)).Candidates.Last().Route.Should().Be("cheap", string.Join("; ", router.GetHealth()));

        var withTools = new ChatOptions { Tools = [AIFunctionFactory.Create(() => "sunny", "weather")] }.WithPolicy(RoutingPolicies.LowestCost).ExcludeTag("none");
        var toolsRoute = (await router.GetResponseAsync(Prompt(), withTools)).GetRoutingInfo()!.Route;
        toolsRoute.Should().Be("cheap");
        servers[2].Requests.Should().NotContain(r => r.Body.ContainsKey("tools"), "the plain route cannot call tools");
    }

    [Fact]
    public async Task Router_hints_are_not_sent_on_the_wire()
    {
        await using var servers = await LoopbackServers.StartAsync("a");
        using var router = new RouterChatClient(servers.Routes());

        await router.GetResponseAsync(Prompt(), new ChatOptions { Temperature = 0.2f }.ForTenant("contoso").WithMaxLatency(TimeSpan.FromSeconds(5)));

        var body = servers[0].Requests.Single().Body.ToJsonString();
        body.Should().NotContain("InferenceRouter").And.NotContain("contoso");
        body.Should().Contain("\"model\":\"a-model\"");
    }
}

/// <summary>A client for an address where nothing listens.</summary>
internal sealed class FakeProviderServerClient(Uri baseUrl)
{
    public IChatClient Create() =>
        new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential("k"), new OpenAI.OpenAIClientOptions { Endpoint = baseUrl, RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) })
            .GetChatClient("m").AsRouteClient();
}
