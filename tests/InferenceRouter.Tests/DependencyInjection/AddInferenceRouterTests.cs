using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.DependencyInjection;

public class AddInferenceRouterTests
{
    [Fact]
    public async Task Routes_from_configuration_reach_an_openai_compatible_server_through_the_chain()
    {
        await using var server = await FakeProviderServer.StartAsync("configured");
        var configuration = Configuration(new()
        {
            ["InferenceRouter:DefaultPolicy"] = "lowest-cost",
            ["InferenceRouter:AttemptTimeout"] = "00:00:30",
            ["InferenceRouter:CircuitBreaker:BreakDuration"] = "00:00:05",
            ["InferenceRouter:Routes:0:Name"] = "compatible",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = server.BaseUrl.ToString(),
            ["InferenceRouter:Routes:0:Model"] = "llama-test",
            ["InferenceRouter:Routes:0:InputPricePerMillion"] = "0.2",
            ["InferenceRouter:Routes:0:OutputPricePerMillion"] = "0.6",
            ["InferenceRouter:Routes:0:Capabilities"] = "Tools, Streaming",
            ["InferenceRouter:Routes:0:Tags:region"] = "eu",
        });
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), r => r.AddRoute(new RouteDescriptor("code") { IsLocal = true }, TestChatClient.Answering("from code")))
            .UseLogging(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync("Hi", new ChatOptions().RequireTag("region", "eu"));

        response.Text.Should().Be("Hello from configured");
        server.Requests.Single().Model.Should().Be("llama-test");
        var router = client.GetService<RouterChatClient>()!;
        router.Options.DefaultPolicy.Should().Be("lowest-cost");
        router.Options.CircuitBreaker.BreakDuration.Should().Be(TimeSpan.FromSeconds(5));
        var route = router.GetRoute("compatible").Descriptor;
        route.Pricing.Should().Be(new RoutePricing(0.2m, 0.6m));
        route.Capabilities.Should().Be(RouteCapabilities.Tools | RouteCapabilities.Streaming);
        router.Routes.Select(r => r.Name).Should().Equal("compatible", "code");
    }

    [Fact]
    public async Task Budgets_from_configuration_price_routes_and_enforce_limits_through_UseBudgets()
    {
        await using var server = await FakeProviderServer.StartAsync("configured");
        server.DefaultBehavior = new ServerBehavior { PromptTokens = 100, CompletionTokens = 200 };
        var configuration = Configuration(new()
        {
            ["InferenceRouter:Routes:0:Name"] = "compatible",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = server.BaseUrl.ToString(),
            ["InferenceRouter:Routes:0:Model"] = "house-model-v2",
            ["InferenceRouter:Budgets:Prices:house-model-v2:InputPerMillion"] = "1",
            ["InferenceRouter:Budgets:Prices:house-model-v2:OutputPerMillion"] = "4",
            ["InferenceRouter:Budgets:Limits:0:Scope"] = "Tenant",
            ["InferenceRouter:Budgets:Limits:0:Window"] = "Month",
            ["InferenceRouter:Budgets:Limits:0:Amount"] = "0.002",
            ["InferenceRouter:Budgets:Thresholds:0"] = "0.25",
        });
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter")).UseBudgets();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();
        var options = new ChatOptions { MaxOutputTokens = 200 }.ForTenant("acme");

        var response = await client.GetResponseAsync("Hi", options);

        response.GetCost()!.Amount.Should().Be(((100 * 1m) + (200 * 4m)) / 1_000_000m, "house-model-v2 takes its own catalog price");
        var budget = client.GetService<BudgetManager>()!;
        budget.Should().BeSameAs(provider.GetRequiredService<BudgetManager>());
        budget.Options.EffectiveThresholds.Should().Equal(0.25);
        await client.GetResponseAsync("Hi", options);
        await FluentActions.Awaiting(() => client.GetResponseAsync("Hi", options)).Should().ThrowAsync<BudgetExceededException>().WithMessage("*tenant 'acme', month starting*");
        server.RequestCount.Should().Be(2);
    }

    [Fact]
    public void Bad_budget_configuration_names_the_key_and_the_fix()
    {
        var configuration = Configuration(new()
        {
            ["InferenceRouter:Routes:0:Name"] = "r",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = "http://localhost:1/v1",
            ["InferenceRouter:Routes:0:Model"] = "m",
            ["InferenceRouter:Budgets:Limits:0:Amount"] = "-5",
            ["InferenceRouter:Budgets:Limits:1:Window"] = "Rolling",
            ["InferenceRouter:Budgets:Limits:1:Amount"] = "5",
        });
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter")).UseBudgets();
        using var provider = services.BuildServiceProvider();

        var error = FluentActions.Invoking(() => provider.GetRequiredService<IChatClient>()).Should().Throw<OptionsValidationException>().Which;

        error.Failures.Should().Contain(f => f.Contains("InferenceRouter:Budgets:Limits:0:Amount is -5"));
        error.Failures.Should().Contain(f => f.Contains("InferenceRouter:Budgets:Limits:1:RollingHours is 0"));
    }

    [Fact]
    public async Task Bad_configuration_fails_at_startup_with_every_problem_named()
    {
        var configuration = Configuration(new()
        {
            ["InferenceRouter:DefaultPolicy"] = "cheapest",
            ["InferenceRouter:Routes:0:Name"] = "dup",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Model"] = "m",
            ["InferenceRouter:Routes:1:Name"] = "dup",
            ["InferenceRouter:Routes:1:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:1:Endpoint"] = "http://localhost:1/v1",
            ["InferenceRouter:Routes:1:Model"] = "m",
            ["InferenceRouter:Routes:1:OutputPricePerMillion"] = "-1",
        });
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"));
        await using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IChatClient>();

        var error = act.Should().Throw<OptionsValidationException>().Which;
        error.Failures.Should().Contain(f => f.Contains("Routes:0 ('dup'):Endpoint is missing"));
        error.Failures.Should().Contain(f => f.Contains("Two routes are named 'dup'"));
        error.Failures.Should().Contain(f => f.Contains("DefaultPolicy 'cheapest' is unknown"));
        error.Failures.Should().Contain(f => f.Contains("OutputPricePerMillion is -1"));
    }

    [Fact]
    public async Task A_default_policy_registered_by_factory_is_known_at_startup()
    {
        var configuration = Configuration(new() { ["InferenceRouter:DefaultPolicy"] = "eu-fast" });
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), r => r
            .AddRoute(new RouteDescriptor("only") { IsLocal = true }, TestChatClient.Answering("ok"))
            .AddPolicy(_ => new CompositeRoutingPolicy("eu-fast", RoutingPolicies.CreateRanker(RoutingPolicies.Priority))));
        await using var provider = services.BuildServiceProvider();

        var response = await provider.GetRequiredService<IChatClient>().GetResponseAsync("hi");

        response.Text.Should().Be("ok");
    }

    [Fact]
    public void Openai_route_without_a_key_names_the_environment_variable()
    {
        var route = new RouteOptions { Name = "openai", Provider = "OpenAI", Model = "gpt-4.1-mini", ApiKeyEnvironmentVariable = "INFERENCE_ROUTER_TEST_NO_SUCH_KEY" };
        route.GetValidationErrors("Routes:0", new RouteProviderRegistry([], discover: true)).Should().ContainSingle().Which.Should().Contain("INFERENCE_ROUTER_TEST_NO_SUCH_KEY");
    }

    [Fact]
    public async Task A_registered_policy_can_be_the_default()
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(r => r
            .AddRoute(new RouteDescriptor("a"), TestChatClient.Answering("a"))
            .AddRoute(new RouteDescriptor("b"), TestChatClient.Answering("b"))
            .AddPolicy(new CompositeRoutingPolicy("last-first", [new LastFirstRanker()]))
            .Configure(o => o.DefaultPolicy = "last-first"));
        await using var provider = services.BuildServiceProvider();

        (await provider.GetRequiredService<IChatClient>().GetResponseAsync(Prompt())).Text.Should().Be("b");
    }

    [Fact]
    public void Calling_AddInferenceRouter_twice_is_an_error()
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(r => r.AddRoute(new RouteDescriptor("a"), TestChatClient.Answering("a")));
        var act = () => services.AddInferenceRouter(r => r.AddRoute(new RouteDescriptor("b"), TestChatClient.Answering("b")));
        act.Should().Throw<InvalidOperationException>().WithMessage("*called twice*");
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private sealed class LastFirstRanker : IRoutingPolicy
    {
        public string Name => "last-first-ranker";

        public void Apply(RouteSelection selection)
        {
            for (int i = 0; i < selection.Count; i++)
            {
                selection.SetScore(i, this, selection.Count - i);
            }
        }
    }
}
