using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routing.FailureClassificationMatrixTests;

namespace InferenceRouter.Tests.Health;

/// <summary>A route its provider calls misconfigured (401, 403, 404) is out of service, loudly once, until a probe answers or an operator restores it.</summary>
public class MisconfiguredRouteTests
{
    [Theory]
    [InlineData("OpenAI", 401, false)]
    [InlineData("Anthropic", 403, true)]
    [InlineData("Ollama", 404, false)]
    [InlineData("Ollama", 401, true)]
    public async Task A_misconfigured_route_never_blocks_a_good_one_and_stays_out_until_a_probe_answers(string provider, int status, bool streaming)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var bad = await FakeProviderServer.StartAsync("bad", ServerBehavior.Error(status));
        await using var good = await FakeProviderServer.StartAsync("good");
        var logs = new FakeLogCollector();
        await using var app = Build(logs, [("bad", provider, bad, null), ("good", "OpenAICompatible", good, null)],
            new() { ["InferenceRouter:MisconfiguredRouteProbeInterval"] = "00:01:00" }, time);
        var client = app.GetRequiredService<IChatClient>();
        var health = app.GetRequiredService<RouterChatClient>().GetRoute("bad").Health;

        for (int i = 0; i < 5; i++)
        {
            (await Call(client, streaming)).Text.Should().Be("Hello from good", "5 of 5 calls answer: the bad route is the route's fault, not the request's");
        }

        bad.RequestCount.Should().Be(1, "taken out after its first answer");
        health.CircuitState.Should().Be(RouteCircuitState.Misconfigured);
        health.GetSnapshot().UnavailableUntil.Should().Be(time.GetUtcNow() + TimeSpan.FromMinutes(1));
        Errors(logs).Should().ContainSingle().Which.Message.Should().Contain("bad").And.Contain(status.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // The probe is due and still fails: the route stays out, quietly.
        time.Advance(TimeSpan.FromMinutes(1));
        (await Call(client, streaming)).Text.Should().Be("Hello from good");
        bad.RequestCount.Should().Be(2, "one call probes the route when its interval has passed");
        health.CircuitState.Should().Be(RouteCircuitState.Misconfigured);
        (await Call(client, streaming)).Text.Should().Be("Hello from good");
        bad.RequestCount.Should().Be(2, "the failed probe pushed the next one an interval away");
        Errors(logs).Should().ContainSingle("one loud error per take-out, not per call or per probe");

        // Fixed (a key rotated back, the model pulled): the next probe answers and the route is back.
        bad.DefaultBehavior = ServerBehavior.Ok;
        time.Advance(TimeSpan.FromMinutes(1));
        (await Call(client, streaming)).Text.Should().Be("Hello from bad");
        health.CircuitState.Should().Be(RouteCircuitState.Closed);
        health.GetSnapshot().MisconfiguredStatusCode.Should().BeNull();
        (await Call(client, streaming)).Text.Should().Be("Hello from bad");
        logs.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Information && r.Message.Contains("back in service", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_operator_restores_a_misconfigured_route_and_without_a_probe_interval_only_an_operator_can()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var bad = await FakeProviderServer.StartAsync("bad", ServerBehavior.Error(401));
        await using var good = await FakeProviderServer.StartAsync("good");
        await using var app = Build(null, [("bad", "Anthropic", bad, null), ("good", "OpenAICompatible", good, null)],
            new() { ["InferenceRouter:MisconfiguredRouteProbeInterval"] = "00:00:00" }, time);
        var client = app.GetRequiredService<IChatClient>();
        var router = app.GetRequiredService<RouterChatClient>();

        await client.GetResponseAsync("Hi");
        router.GetHealth()[0].Should().Match<RouteHealthSnapshot>(h => h.CircuitState == RouteCircuitState.Misconfigured && h.UnavailableUntil == DateTimeOffset.MaxValue);
        time.Advance(TimeSpan.FromDays(2));
        (await client.GetResponseAsync("Hi")).Text.Should().Be("Hello from good");
        bad.RequestCount.Should().Be(1, "no probe interval: no probe");
        router.Explain([new ChatMessage(ChatRole.User, "Hi")]).Routes.Single(r => r.Route == "bad").ExclusionReason.Should().Contain("misconfigured (HTTP 401)").And.Contain("RestoreRoute");

        bad.DefaultBehavior = ServerBehavior.Ok;
        router.RestoreRoute("bad");

        (await client.GetResponseAsync("Hi")).Text.Should().Be("Hello from bad");
        router.GetHealth()[0].CircuitState.Should().Be(RouteCircuitState.Closed);
    }

    [Fact]
    public async Task A_probe_refused_for_the_requests_own_sake_proves_the_route_works_and_brings_it_back()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var bad = await FakeProviderServer.StartAsync("bad", ServerBehavior.Error(403));
        await using var good = await FakeProviderServer.StartAsync("good");
        await using var app = Build(null, [("bad", "OpenAI", bad, null), ("good", "Anthropic", good, null)], time: time);
        var client = app.GetRequiredService<IChatClient>();
        var health = app.GetRequiredService<RouterChatClient>().GetRoute("bad").Health;

        await client.GetResponseAsync("Hi");
        health.CircuitState.Should().Be(RouteCircuitState.Misconfigured);

        bad.DefaultBehavior = ServerBehavior.Error(400); // the key works now; this request is wrong
        time.Advance(TimeSpan.FromMinutes(5));
        await FluentActions.Awaiting(() => client.GetResponseAsync("Hi")).Should().ThrowAsync<System.ClientModel.ClientResultException>();

        health.CircuitState.Should().Be(RouteCircuitState.Closed);
        good.RequestCount.Should().Be(1, "the request's own fault surfaces, as on any route in service");
    }

    [Fact]
    public async Task With_one_route_a_misconfiguration_fails_the_call_naming_the_status_and_later_calls_fail_fast()
    {
        await using var bad = await FakeProviderServer.StartAsync("bad", ServerBehavior.Error(404));
        await using var app = Build(null, [("only", "Ollama", bad, null)]);
        var client = app.GetRequiredService<IChatClient>();

        var first = (await FluentActions.Awaiting(() => client.GetResponseAsync("Hi")).Should().ThrowAsync<AllRoutesFailedException>()).Which;
        first.Attempts.Should().ContainSingle().Which.Should().Match<RouteAttempt>(x => x.StatusCode == 404 && x.Failure == FailureKind.RouteMisconfigured);

        var later = (await FluentActions.Awaiting(() => client.GetResponseAsync("Hi")).Should().ThrowAsync<AllRoutesFailedException>()).Which;
        later.Exclusions.Should().ContainSingle().Which.Reason.Should().Contain("misconfigured");
        bad.RequestCount.Should().Be(1);
    }

    private static IEnumerable<FakeLogRecord> Errors(FakeLogCollector logs) =>
        logs.GetSnapshot().Where(r => r.Level == LogLevel.Error && r.Message.StartsWith("Route bad answered HTTP", StringComparison.Ordinal));
}
