using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace InferenceRouter.Tests.Budgets;

/// <summary><c>UseBudgets()</c> with a route it cannot price refuses to start, naming it and the ways to price it, instead of refusing every call.</summary>
public class UnpricedRouteTests
{
    [Fact]
    public async Task A_route_whose_model_has_no_price_stops_the_start_naming_the_route_the_model_and_both_ways_to_price_it()
    {
        await using var server = await FakeProviderServer.StartAsync("house");
        using var app = Build(server, new() { ["InferenceRouter:Routes:1:Model"] = "house-llm-7b" });

        var error = FluentActions.Invoking(() => app.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<InvalidOperationException>().Which;

        error.Message.Should().Contain("route 'house' (model 'house-llm-7b')").And.NotContain("route 'gpt'", "gpt-4.1-mini is in the shipped catalog");
        error.Message.Should().Contain("InputPricePerMillion and OutputPricePerMillion under InferenceRouter:Routes").And.Contain("RouteDescriptor.Pricing");
        error.Message.Should().Contain("InferenceRouter:ModelCatalog:Models:<model>").And.Contain("ModelCatalog:Path").And.Contain("UnknownModelPricing to Free");
        server.RequestCount.Should().Be(0);

        // Without a host, the pipeline refuses when it is first resolved: before any call, never on each call.
        FluentActions.Invoking(() => app.GetRequiredService<IChatClient>()).Should().Throw<InvalidOperationException>().WithMessage("*route 'house' (model 'house-llm-7b')*");
    }

    [Theory]
    [InlineData("o3-pro")]
    [InlineData("gpt-5-pro")]
    [InlineData("o3-deep-research")]
    [InlineData("gpt-4o-realtime-preview")]
    public async Task A_premium_model_whose_cheaper_base_is_in_the_catalog_is_unpriced_and_stops_the_start(string model)
    {
        await using var server = await FakeProviderServer.StartAsync("house");
        using var app = Build(server, new() { ["InferenceRouter:Routes:1:Model"] = model });

        FluentActions.Invoking(() => app.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<InvalidOperationException>()
            .WithMessage($"*route 'house' (model '{model}')*");
        server.RequestCount.Should().Be(0);
    }

    [Theory]
    [InlineData("route price")]
    [InlineData("catalog price")]
    [InlineData("free when unknown")]
    public async Task Each_way_to_price_it_starts_and_the_route_answers(string fix)
    {
        await using var server = await FakeProviderServer.StartAsync("house", new ServerBehavior { PromptTokens = 1000, CompletionTokens = 1000 });
        var settings = new Dictionary<string, string?> { ["InferenceRouter:Routes:1:Model"] = "house-llm-7b" };
        switch (fix)
        {
            case "route price":
                settings["InferenceRouter:Routes:1:InputPricePerMillion"] = "1";
                settings["InferenceRouter:Routes:1:OutputPricePerMillion"] = "2";
                break;
            case "catalog price":
                settings["InferenceRouter:Budgets:Prices:house-llm-7b:InputPerMillion"] = "1";
                settings["InferenceRouter:Budgets:Prices:house-llm-7b:OutputPerMillion"] = "2";
                break;
            default:
                settings["InferenceRouter:Budgets:UnknownModelPricing"] = "Free";
                break;
        }

        using var app = Build(server, settings);
        app.GetRequiredService<IStartupValidator>().Validate();

        var response = await app.GetRequiredService<IChatClient>().GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 100 }.WithRoute("house").ForTenant("acme"));

        response.Text.Should().Be("Hello from house");
        response.GetCost()!.Amount.Should().Be(fix == "free when unknown" ? 0m : ((1000 * 1m) + (1000 * 2m)) / 1_000_000m);
    }

    [Fact]
    public void A_route_added_in_code_without_a_price_is_refused_too_and_a_local_one_is_free()
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(r => r
                .AddRoute(new RouteDescriptor("local") { ModelId = "tiny", IsLocal = true }, TestChatClient.Answering("local"))
                .AddRoute(new RouteDescriptor("mystery"), TestChatClient.Answering("x")))
            .UseBudgets();
        using var app = services.BuildServiceProvider();

        FluentActions.Invoking(() => app.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<InvalidOperationException>()
            .Which.Message.Should().Contain("route 'mystery' (no model id)").And.NotContain("'local'");
    }

    private static ServiceProvider Build(FakeProviderServer server, Dictionary<string, string?> settings)
    {
        settings.TryAdd("InferenceRouter:Routes:0:Name", "gpt");
        settings.TryAdd("InferenceRouter:Routes:0:Provider", "OpenAICompatible");
        settings.TryAdd("InferenceRouter:Routes:0:Endpoint", "http://127.0.0.1:9/v1");
        settings.TryAdd("InferenceRouter:Routes:0:Model", "gpt-4.1-mini");
        settings.TryAdd("InferenceRouter:Routes:1:Name", "house");
        settings.TryAdd("InferenceRouter:Routes:1:Provider", "OpenAICompatible");
        settings.TryAdd("InferenceRouter:Routes:1:Endpoint", server.BaseUrl.ToString());
        settings.TryAdd("InferenceRouter:Budgets:Limits:0:Scope", "Tenant");
        settings.TryAdd("InferenceRouter:Budgets:Limits:0:Window", "Day");
        settings.TryAdd("InferenceRouter:Budgets:Limits:0:Amount", "10");
        var services = new ServiceCollection();
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("InferenceRouter")).UseBudgets();
        return services.BuildServiceProvider();
    }
}
