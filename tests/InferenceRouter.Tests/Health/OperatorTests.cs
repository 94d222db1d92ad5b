using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Health;

/// <summary>What operators see and control: quiet logs that never repeat provider text whole, skipped routes, named timeouts, draining, smoothing, missing keys.</summary>
public class OperatorTests
{
    [Fact]
    public async Task A_failover_logs_one_warning_line_with_capped_provider_text_and_its_causes_at_debug_never_the_exception_object()
    {
        var collector = new FakeLogCollector();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(collector)).SetMinimumLevel(LogLevel.Debug));
        string echoed = "upstream said: " + new string('x', 5_000) + "\nAuthorization: Bearer sk-secret";
        using var router = new RouterChatClient(
            [Of("flaky", TestChatClient.Failing(new HttpRequestException(echoed, null, HttpStatusCode.BadGateway))), Of("ok", TestChatClient.Answering("fine"))],
            loggerFactory: loggers);

        await router.GetResponseAsync(Prompt());

        var warning = collector.GetSnapshot().Single(r => r.Level == LogLevel.Warning);
        warning.Exception.Should().BeNull("no stack trace per failed attempt at Warning");
        warning.Message.Should().Contain("flaky").And.Contain("502").And.NotContain("Bearer").And.NotContain("\n");
        warning.Message.Length.Should().BeLessThan(400);
        collector.GetSnapshot().Should().OnlyContain(r => r.Exception == null, "a provider's exception can echo the prompt or the key: it is never logged whole");
        collector.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Debug && r.Message.Contains("System.Net.Http.HttpRequestException") && r.Message.Contains(" at "));
        collector.GetSnapshot().Should().NotContain(r => r.Message.Contains("sk-secret"));

        using var allFailing = new RouterChatClient([Of("flaky", TestChatClient.Failing(new HttpRequestException(echoed, null, HttpStatusCode.BadGateway)))]);
        var error = (await FluentActions.Awaiting(() => allFailing.GetResponseAsync(Prompt())).Should().ThrowAsync<AllRoutesFailedException>()).Which;
        error.Message.Should().NotContain("Bearer").And.Subject.Length.Should().BeLessThan(500);
    }

    [Fact]
    public async Task Routes_skipped_for_their_health_are_listed_in_a_successful_calls_routing_info()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var router = new RouterChatClient([Of("a", Both("a")), Of("b", Both("b")), Of("c", Both("c"))], timeProvider: time);
        router.GetRoute("a").Health.SetRetryAfter(time.GetUtcNow() + TimeSpan.FromMinutes(1));
        router.DrainRoute("b");

        var response = await router.GetResponseAsync(Prompt());

        response.Text.Should().Be("c");
        response.GetRoutingInfo()!.Skipped.Should().Equal(new RouteExclusion("a", "asked to wait (Retry-After)"), new RouteExclusion("b", "drained"));
        var streamed = await router.GetStreamingResponseAsync(Prompt()).ToListAsync();
        streamed[^1].GetRoutingInfo()!.Skipped.Select(s => s.Route).Should().Equal("a", "b");
    }

    [Fact]
    public async Task A_drained_route_takes_no_call_whatever_the_policy_until_it_is_restored()
    {
        var a = TestChatClient.Answering("a");
        using var router = new RouterChatClient([Of("a", a), Of("b", TestChatClient.Answering("b"))], new RouterOptions { DefaultPolicy = "x" }, [new CompositeRoutingPolicy("x", new PriorityRanker())]);

        router.DrainRoute("a");
        (await router.GetResponseAsync(Prompt())).Text.Should().Be("b");
        router.GetRoute("a").Health.GetSnapshot().CircuitState.Should().Be(RouteCircuitState.Isolated);
        router.Explain(Prompt()).Routes.Single(r => r.Route == "a").ExclusionReason.Should().Contain("Isolated");

        router.RestoreRoute("a");
        (await router.GetResponseAsync(Prompt())).Text.Should().Be("a");
        a.Calls.Should().Be(1);
        FluentActions.Invoking(() => router.DrainRoute("nope")).Should().Throw<KeyNotFoundException>().WithMessage("*nope*");
    }

    [Fact]
    public async Task A_timeout_says_which_timeout_fired()
    {
        var hanging = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, token) =>
            {
                await Task.Delay(Timeout.Infinite, token);
                return new ChatResponse();
            },
            GetStreamingResponseAsyncCallback = (_, _, token) => Hang(token),
        };
        using var router = new RouterChatClient(
            [Of("hanging", hanging), Of("ok", TestChatClient.Answering("ok"))],
            new RouterOptions { AttemptTimeout = TimeSpan.FromMilliseconds(50), TimeToFirstTokenTimeout = TimeSpan.FromMilliseconds(40) });

        var response = await router.GetResponseAsync(Prompt());

        response.GetRoutingInfo()!.Attempts[0].Error!.Message.Should().Contain("AttemptTimeout (00:00:00.0500000)");
        var error = (await FluentActions.Awaiting(() => new RouterChatClient([Of("hanging", hanging)], new RouterOptions { TimeToFirstTokenTimeout = TimeSpan.FromMilliseconds(40) })
            .GetStreamingResponseAsync(Prompt()).ToListAsync().AsTask()).Should().ThrowAsync<AllRoutesFailedException>()).Which;
        error.Attempts.Single().Error!.Message.Should().Contain("TimeToFirstTokenTimeout (00:00:00.0400000)");
    }

    [Fact]
    public void Latency_smoothing_and_drained_routes_come_from_configuration_validated()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:LatencySmoothing"] = "0.5",
            ["InferenceRouter:LatencyDecayTime"] = "00:00:20",
            ["InferenceRouter:LatencyProbeInterval"] = "00:01:00",
            ["InferenceRouter:Routes:0:Name"] = "maintenance",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = "http://127.0.0.1:9/v1",
            ["InferenceRouter:Routes:0:Model"] = "m",
            ["InferenceRouter:Routes:0:Drained"] = "true",
            ["InferenceRouter:Routes:1:Name"] = "remote",
            ["InferenceRouter:Routes:1:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:1:Endpoint"] = "http://127.0.0.1:9/v1",
            ["InferenceRouter:Routes:1:Model"] = "m",
            ["InferenceRouter:Routes:1:ApiKeyEnvironmentVariable"] = "INFERENCE_ROUTER_TEST_UNSET_KEY",
        }).Build();
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"));
        using var provider = services.BuildServiceProvider();

        var router = provider.GetRequiredService<RouterChatClient>();
        router.GetRoute("maintenance").Health.IsDrained.Should().BeTrue();
        router.GetRoute("remote").Health.SmoothingFactor.Should().Be(0.5);
        router.GetRoute("remote").Health.DecayTime.Should().Be(TimeSpan.FromSeconds(20));
        router.GetRoute("remote").Health.ProbeInterval.Should().Be(TimeSpan.FromMinutes(1));

        FluentActions.Invoking(() => new RouterChatClient([Of("a", TestChatClient.Answering("a"))], new RouterOptions { LatencySmoothing = 0 }))
            .Should().Throw<ArgumentException>().WithMessage("*LatencySmoothing is 0*");
    }

    [Fact]
    public void A_remote_route_whose_key_variable_is_unset_is_refused_at_startup_naming_the_variable()
    {
        var route = new RouteOptions { Name = "together", Provider = "OpenAICompatible", Endpoint = "https://api.together.xyz/v1", Model = "m", ApiKeyEnvironmentVariable = "INFERENCE_ROUTER_TEST_UNSET_KEY" };
        var options = new InferenceRouterOptions();
        options.Routes.Add(route);

        options.GetValidationErrors().Should().ContainSingle().Which.Should().Contain("INFERENCE_ROUTER_TEST_UNSET_KEY").And.Contain("not set");

        route.Endpoint = "http://localhost:11434/v1";
        options.GetValidationErrors().Should().BeEmpty("a local server may need no key (a warning is logged instead)");
    }

    private static TestChatClient Both(string text)
    {
        var client = TestChatClient.Answering(text);
        client.GetStreamingResponseAsyncCallback = (_, _, token) => InferenceRouter.Tests.Budgets.BudgetChatClientTests.Stream(text, null, token);
        return client;
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Hang([EnumeratorCancellation] CancellationToken token)
    {
        await Task.Delay(Timeout.Infinite, token);
        yield break;
    }
}
