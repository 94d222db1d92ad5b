using System.Net;
using System.Net.Sockets;
using InferenceRouter.Tests.Integration;
using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.LocalModels;

/// <summary>The local ONNX route inside the router: last in failover, first when offline, the only one for on-device calls, the budget's floor.</summary>
[Collection(LocalModelCollection.Name)]
public class LocalRouteTests
{
    private const string Model = "models/tiny-gpt2-genai";

    private static ChatRoute Local(LocalOnnxOptions? options = null) => new(
        new RouteDescriptor("local") { ModelId = "tiny-gpt2-genai", IsLocal = true, Pricing = RoutePricing.Free, Capabilities = RouteCapabilities.Streaming },
        new LocalOnnxChatClient(options ?? new LocalOnnxOptions { ModelPath = SharedFiles.TinyModel }));

    /// <summary>A loopback endpoint nothing listens on: connections are refused, as when the network is down.</summary>
    private static ChatRoute Unreachable(string name)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var client = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential("test"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri($"http://127.0.0.1:{port}/v1"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });
        return new ChatRoute(new RouteDescriptor(name) { ModelId = "gpt-4.1-mini", Capabilities = RouteCapabilities.All }, client.GetChatClient("gpt-4.1-mini").AsRouteClient());
    }

    [SharedFact(Model)]
    public async Task The_local_model_works_off_the_callers_thread_so_the_router_can_hedge_and_time_out()
    {
        using var client = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = SharedFiles.TinyModel });
        await client.WarmUpAsync();

        // From a thread-pool thread, as in a console app or ASP.NET Core (xunit's synchronization context would hide the bug): the call
        // must return before the model prefills, not after it generated everything inline.
        var (call, returnedAtOnce) = await Task.Run(() =>
        {
            var task = client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 50 });
            return (task, !task.IsCompleted);
        });

        returnedAtOnce.Should().BeTrue("generation runs on the thread pool, so hedging and time-to-first-token timeouts can act meanwhile");
        (await call).Usage!.OutputTokenCount.Should().BeGreaterThan(0);
    }

    [SharedFact(Model)]
    public async Task Failing_remote_routes_fail_over_to_the_local_model_last()
    {
        await using var servers = await LoopbackServers.StartAsync("a", "b");
        servers[0].DefaultBehavior = ServerBehavior.Error(503);
        servers[1].DefaultBehavior = ServerBehavior.Error(500);
        using var router = new RouterChatClient([Local(), .. servers.Routes()]);

        var response = await router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 10 });

        var info = response.GetRoutingInfo()!;
        info.Route.Should().Be("local", "registered first, but local routes go last");
        info.IsLocal.Should().BeTrue();
        info.Attempts.Select(a => a.Route).Should().Equal("a", "b", "local");
        response.Usage!.OutputTokenCount.Should().BeInRange(1, 10);
        router.IsOffline.Should().BeFalse("the remote routes answered, with errors");

        var streamed = await router.GetStreamingResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 10 }).ToListAsync();
        streamed[^1].GetRoutingInfo()!.Route.Should().Be("local");
    }

    [SharedFact(Model)]
    public async Task When_every_remote_route_cannot_connect_the_app_is_offline_and_the_local_model_goes_first()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var router = new RouterChatClient([Unreachable("cloud-1"), Unreachable("cloud-2"), Local()], new RouterOptions { OfflineInterval = TimeSpan.FromSeconds(30) }, timeProvider: time);

        var first = await router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 5 });
        first.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("cloud-1", RouteAttemptOutcome.Failed), ("cloud-2", RouteAttemptOutcome.Failed), ("local", RouteAttemptOutcome.Succeeded));
        router.IsOffline.Should().BeTrue();

        var second = await router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 5 });
        second.GetRoutingInfo()!.Attempts.Select(a => a.Route).Should().Equal(["local"], "offline: no time lost on the network");
        router.Explain(Prompt()).Routes[0].Route.Should().Be("local");

        time.Advance(TimeSpan.FromSeconds(31));
        router.IsOffline.Should().BeFalse();
        var third = await router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 5 });
        third.GetRoutingInfo()!.Attempts[0].Route.Should().Be("cloud-1", "after the interval the network is tried again");
        router.IsOffline.Should().BeTrue("and it is still down");
    }

    [SharedFact(Model)]
    public async Task A_call_kept_on_the_device_never_reaches_a_remote_route_even_when_the_local_one_fails()
    {
        await using var servers = await LoopbackServers.StartAsync("cloud");
        using var router = new RouterChatClient([.. servers.Routes(), Local()]);

        var response = await router.GetResponseAsync(Prompt("my medical record"), new ChatOptions { MaxOutputTokens = 5 }.KeepOnDevice());
        response.GetRoutingInfo()!.Route.Should().Be("local");

        using var broken = new RouterChatClient([.. servers.Routes(), Local(new LocalOnnxOptions { ModelPath = "/missing/model" })]);
        var error = (await FluentActions.Awaiting(() => broken.GetResponseAsync(Prompt("my medical record"), new ChatOptions().KeepOnDevice()))
            .Should().ThrowAsync<AllRoutesFailedException>()).Which;
        error.Exclusions.Should().ContainSingle(e => e.Route == "cloud" && e.Reason.Contains("stay on the device"));
        servers[0].RequestCount.Should().Be(0);
    }

    [SharedFact(Model)]
    public async Task A_local_model_that_cannot_load_is_an_unavailable_route_not_a_crash()
    {
        await using var servers = await LoopbackServers.StartAsync("cloud");
        using var router = new RouterChatClient([Local(new LocalOnnxOptions { ModelPath = "/missing/model", LoadRetryInterval = TimeSpan.FromMinutes(2) }), .. servers.Routes()], new RouterOptions { LocalRoutesLast = false });

        var first = await router.GetResponseAsync(Prompt());
        var second = await router.GetResponseAsync(Prompt());

        var attempt = first.GetRoutingInfo()!.Attempts[0];
        attempt.Should().Match<RouteAttempt>(a => a.Route == "local" && a.Outcome == RouteAttemptOutcome.Failed && a.Error is LocalModelLoadException);
        first.GetRoutingInfo()!.Route.Should().Be("cloud");
        second.GetRoutingInfo()!.Attempts.Select(a => a.Route).Should().Equal(["cloud"], "the route is left alone for the retry interval");
        router.GetRoute("local").Health.GetSnapshot().UnavailableUntil.Should().BeAfter(DateTimeOffset.UtcNow.AddSeconds(100));
    }

    [SharedFact(Model)]
    public async Task A_budget_downgrades_to_the_free_local_model()
    {
        await using var servers = await LoopbackServers.StartAsync("cloud");
        var options = new BudgetOptions();
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Global, Amount = 0.0001m, Enforcement = BudgetEnforcement.Downgrade });
        using var budget = new BudgetManager(options);
        using IChatClient client = new BudgetChatClient(new RouterChatClient([.. servers.Routes((_, d) => new RouteDescriptor(d.Name) { ModelId = "gpt-4.1", Capabilities = RouteCapabilities.All }), Local()]), budget);

        var response = await client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 100 });

        response.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("cloud", RouteAttemptOutcome.NotAdmitted), ("local", RouteAttemptOutcome.Succeeded));
        response.GetCost()!.Amount.Should().Be(0m);
        servers[0].RequestCount.Should().Be(0);
    }

    [SharedFact(Model)]
    public async Task WarmUpOnStart_loads_the_model_when_the_host_starts_and_a_missing_one_does_not_stop_it()
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(router => router
            .AddLocalOnnxRoute("warm", o => { o.ModelPath = SharedFiles.TinyModel; o.WarmUpOnStart = true; })
            .AddLocalOnnxRoute("missing", o => { o.ModelPath = "/missing/model"; o.WarmUpOnStart = true; }));
        await using var provider = services.BuildServiceProvider();

        foreach (var service in provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
        }

        provider.GetRequiredKeyedService<LocalOnnxChatClient>("warm").IsLoaded.Should().BeTrue();
        provider.GetRequiredKeyedService<LocalOnnxChatClient>("missing").IsLoaded.Should().BeFalse();
    }

    [SharedFact(Model)]
    public async Task Local_routes_come_from_code_or_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:LocalModels:on-device:ModelPath"] = SharedFiles.TinyModel,
            ["InferenceRouter:LocalModels:on-device:Provider"] = "Cpu",
            ["InferenceRouter:LocalModels:on-device:MaxConcurrentGenerations"] = "2",
            ["InferenceRouter:LocalModels:on-device:StopSequences:0"] = "\n\n",
        }).Build();
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), router => router
            .AddLocalOnnxRoutes()
            .AddLocalOnnxRoute("coded", o => { o.ModelPath = SharedFiles.TinyModel; o.ModelId = "tiny"; }));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();

        var response = await client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 5 });

        response.GetRoutingInfo()!.Route.Should().Be("on-device");
        var router = client.GetService<RouterChatClient>()!;
        router.GetRoute("on-device").Descriptor.Should().Match<RouteDescriptor>(d => d.IsLocal && d.ContextWindow == 512 && d.ModelId == "tiny-gpt2-genai");
        router.GetRoute("coded").Descriptor.ModelId.Should().Be("tiny");
        var local = provider.GetRequiredKeyedService<LocalOnnxChatClient>("on-device");
        local.Options.MaxConcurrentGenerations.Should().Be(2);
        local.Options.StopSequences.Should().Equal("\n\n");

        var bad = new ServiceCollection();
        FluentActions.Invoking(() => bad.AddInferenceRouter(r => r.AddLocalOnnxRoute("x", o => o.MaxConcurrentGenerations = 0)))
            .Should().Throw<ArgumentException>().WithMessage("*InferenceRouter:LocalModels:x:ModelPath is empty*MaxConcurrentGenerations is 0*");
    }
}
