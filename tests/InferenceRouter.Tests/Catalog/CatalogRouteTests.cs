using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using InferenceRouter.TestServer;
using Microsoft.Extensions.Options;

namespace InferenceRouter.Tests.Catalog;

/// <summary>
/// A route declared with only a provider and a model takes its window, output limit, capabilities and prices from the model catalog;
/// the router's filters use them (real OpenAI SDK over loopback), overrides from configuration win over the catalog, and the route's own
/// declaration wins over both.
/// </summary>
public class CatalogRouteTests
{
    private const string OpenAITooLong = """{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""";

    public static TheoryData<string, string, string, bool> Requests()
    {
        var data = new TheoryData<string, string, string, bool>();
        foreach (bool streaming in new[] { false, true })
        {
            data.Add("image", "o3-mini", "gpt-4.1", streaming);          // o3-mini reads no images
            data.Add("tool and image", "o3-mini", "gpt-4.1", streaming);
            data.Add("json schema", "gpt-4o-2024-05-13", "gpt-4o", streaming); // the May 2024 snapshot predates structured outputs
            data.Add("reasoning", "gpt-4.1", "o3", streaming);            // gpt-4.1 rejects a reasoning effort
            data.Add("plain", "o3-mini", "gpt-4.1", streaming);           // nothing to exclude: the first route answers
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_configuration_route_with_only_provider_and_model_is_filtered_by_its_catalog_capabilities(string request, string first, string second, bool streaming)
    {
        await using var a = await FakeProviderServer.StartAsync("a");
        await using var b = await FakeProviderServer.StartAsync("b");
        using var app = Build(new() { }, ("a", first, a), ("b", second, b));

        var response = await Call(app.GetRequiredService<IChatClient>(), Options(request), Messages(request), streaming);

        var expected = request == "plain" ? a : b;
        response.Text.Should().Be($"Hello from {expected.Name}");
        (request == "plain" ? b : a).RequestCount.Should().Be(0, $"'{first}' {(request == "plain" ? "answered first" : "lacks what the request needs, per the catalog")}");
        var sent = expected.Requests.Single().Body.ToJsonString();
        if (request.Contains("tool", StringComparison.Ordinal))
        {
            sent.Should().Contain("\"lookup\"", "the tool is sent to the route that can call it");
        }

        if (request.Contains("image", StringComparison.Ordinal))
        {
            sent.Should().Contain("image_url");
        }
    }

    [Fact]
    public void A_route_with_only_provider_and_model_shows_what_the_catalog_filled_in_and_a_dated_snapshot_is_its_family()
    {
        using var app = Build([], ("plain", "gpt-4.1", null), ("dated", "gpt-4.1-2025-04-14", null), ("unknown", "house-llm-7b", null));
        var router = app.GetRequiredService<RouterChatClient>();

        foreach (var name in new[] { "plain", "dated" })
        {
            var d = router.GetRoute(name).Descriptor;
            d.ContextWindow.Should().Be(1_047_576);
            d.MaxOutputTokens.Should().Be(32_768);
            d.Capabilities.Should().Be(RouteCapabilities.Tools | RouteCapabilities.Images | RouteCapabilities.JsonSchema | RouteCapabilities.Streaming);
            d.Pricing.Should().Be(new RoutePricing(2.00m, 8.00m, 0.50m));
        }

        var unknown = router.GetRoute("unknown").Descriptor;
        (unknown.ContextWindow, unknown.MaxOutputTokens, unknown.Capabilities, unknown.Pricing).Should().Be(((int?)null, (int?)null, (RouteCapabilities?)null, (RoutePricing?)null), "a model the catalog does not list stays unknown");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_prompt_too_long_fails_over_to_a_route_whose_window_comes_from_the_catalog(bool streaming)
    {
        await using var small = await FakeProviderServer.StartAsync("small", new ServerBehavior { StatusCode = 400, RawBody = OpenAITooLong, RawContentType = "application/json" });
        await using var large = await FakeProviderServer.StartAsync("large");
        using var app = Build(new() { ["InferenceRouter:Routes:0:ContextWindow"] = "8192" }, ("small", "house-llm-8k", small), ("large", "gpt-4.1", large));

        var response = await Call(app.GetRequiredService<IChatClient>(), new ChatOptions(), [new(ChatRole.User, "a long prompt")], streaming);

        response.Text.Should().Be("Hello from large", "gpt-4.1's 1,047,576-token window is known to be larger than 8,192");
        small.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task The_cheapest_policy_ranks_routes_by_their_catalog_prices()
    {
        await using var full = await FakeProviderServer.StartAsync("full");
        await using var nano = await FakeProviderServer.StartAsync("nano");
        using var app = Build(new() { ["InferenceRouter:DefaultPolicy"] = RoutingPolicies.LowestCost }, ("full", "gpt-4.1", full), ("nano", "gpt-4.1-nano", nano));

        (await app.GetRequiredService<IChatClient>().GetResponseAsync("Hi")).Text.Should().Be("Hello from nano");
        full.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task A_catalog_override_from_configuration_wins_over_the_shipped_catalog_and_the_route_declaration_wins_over_both()
    {
        await using var a = await FakeProviderServer.StartAsync("a");
        await using var b = await FakeProviderServer.StartAsync("b");
        using var app = Build(
            new()
            {
                ["InferenceRouter:ModelCatalog:Models:gpt-4.1:Capabilities"] = "Tools, Streaming",
                ["InferenceRouter:ModelCatalog:Models:gpt-4.1:ContextWindow"] = "16000",
                ["InferenceRouter:ModelCatalog:Models:o3:ContextWindow"] = "150000",
                ["InferenceRouter:Routes:1:ContextWindow"] = "90000",
                ["InferenceRouter:Routes:1:Capabilities"] = "Images, Streaming",
            },
            ("a", "gpt-4.1", a),
            ("b", "o3", b));
        var router = app.GetRequiredService<RouterChatClient>();

        var overridden = router.GetRoute("a").Descriptor;
        overridden.Capabilities.Should().Be(RouteCapabilities.Tools | RouteCapabilities.Streaming);
        overridden.ContextWindow.Should().Be(16_000);
        overridden.MaxOutputTokens.Should().Be(16_000, "the listed 32,768-token output limit cannot exceed the overriding window");
        overridden.Pricing.Should().Be(new RoutePricing(2.00m, 8.00m, 0.50m), "an override that sets no price keeps the listed one");
        var declared = router.GetRoute("b").Descriptor;
        declared.ContextWindow.Should().Be(90_000, "the route's declaration wins over the catalog override");
        declared.Capabilities.Should().Be(RouteCapabilities.Images | RouteCapabilities.Streaming);
        declared.MaxOutputTokens.Should().Be(90_000, "o3's 100,000 output tokens are capped at the route's window");

        var response = await app.GetRequiredService<IChatClient>().GetResponseAsync(Messages("image"));
        response.Text.Should().Be("Hello from b", "the override says gpt-4.1 reads no images here");
        await FluentActions.Awaiting(() => app.GetRequiredService<IChatClient>().GetResponseAsync("Hi", Options("tool"))).Should().NotThrowAsync();
        a.RequestCount.Should().Be(1, "only the tool call could go to 'a': the route 'b' declares no Tools");
    }

    [Theory]
    [InlineData("InferenceRouter:ModelCatalog:Models:gpt-4.1:ContextWindo", "32000", "InferenceRouter:ModelCatalog:Models:gpt-4.1:ContextWindo is not a known setting; did you mean ContextWindow?")]
    [InlineData("InferenceRouter:ModelCatalog:Modles:gpt-4.1:ContextWindow", "32000", "InferenceRouter:ModelCatalog:Modles is not a known setting; did you mean Models?")]
    [InlineData("InferenceRouter:ModelCatalog:Models:gpt-4.1:ContextWindow", "-5", "InferenceRouter:ModelCatalog:Models:gpt-4.1:ContextWindow is -5")]
    [InlineData("InferenceRouter:ModelCatalog:Models:house:InputPerMillion", "1", "InferenceRouter:ModelCatalog:Models:house has no OutputPerMillion")]
    [InlineData("InferenceRouter:ModelCatalog:Models:gpt-4.1:LongContext:InputPerMillion", "4", "InferenceRouter:ModelCatalog:Models:gpt-4.1:LongContext:AbovePromptTokens is missing")]
    [InlineData("InferenceRouter:ModelCatalog:Models:gpt-4.1:CacheWritePerMillion", "-1", "InferenceRouter:ModelCatalog:Models:gpt-4.1:CacheWritePerMillion is -1")]
    [InlineData("InferenceRouter:ModelCatalog:Aliases:prod", "no-such-model", "alias 'prod' names model 'no-such-model', which the catalog does not list")]
    [InlineData("InferenceRouter:ModelCatalog:Path", "/no/such/models.json", "InferenceRouter:ModelCatalog:Path '/no/such/models.json' does not exist")]
    public void A_bad_catalog_setting_stops_the_start_naming_the_key(string key, string value, string message)
    {
        using var app = Build(new() { [key] = value }, ("a", "gpt-4.1", null));

        FluentActions.Invoking(() => app.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<Exception>()
            .Which.ToString().Should().Contain(message);
    }

    [Theory]
    [InlineData("""{ "schemaVersion": 1, "models": { "house": { "inputPerMillion": 1, "outputPerMillion": 2, "contextWindw": 8000 } } }""", "contextWindw")]
    [InlineData("""{ "schemaVersion": 1, "models": { "house": { "inputPerMillion": 1, "outputPerMillion": 2, "contextWindow": -1 } } }""", "Model 'house':ContextWindow is -1")]
    [InlineData("""{ "schemaVersion": 1, "models": { "house": { "contextWindow": 8000, "maxOutputTokens": 9000 } } }""", "MaxOutputTokens 9000 is larger than its ContextWindow 8000")]
    [InlineData("""{ "schemaVersion": 1, "models": { "house": { "capabilities": "Tools, Telepathy" } } }""", "$.models.house.capabilities")]
    [InlineData("""{ "schemaVersion": 1, "models": { "house": { "inputPerMillion": 1, "outputPerMillion": 2, "longContext": { "abovePromptTokens": 1000, "inputPerMillion": 2 } } } }""", "Model 'house':LongContext has no OutputPerMillion")]
    [InlineData("""{ "schemaVersion": 1, "models": { "house": { "inputPerMillion": 1, "outputPerMillion": 2, "audioInputPerMillion": -3 } } }""", "Model 'house':AudioInputPerMillion is -3")]
    [InlineData("""{ "schemaVersion": 2, "models": { } }""", "schemaVersion 2")]
    [InlineData("""{ "schemaVersion": 1, "modles": { } }""", "modles")]
    public void A_catalog_file_with_a_bad_field_stops_the_start_naming_the_file_and_the_field(string json, string message)
    {
        var path = Path.Combine(Path.GetTempPath(), $"models-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            using var app = Build(new() { ["InferenceRouter:ModelCatalog:Path"] = path }, ("a", "house", null));

            var error = FluentActions.Invoking(() => app.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<Exception>().Which.ToString();
            error.Should().Contain(message).And.Contain(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_catalog_file_and_code_add_models_and_the_budget_prices_from_the_same_catalog()
    {
        var path = Path.Combine(Path.GetTempPath(), $"models-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "schemaVersion": 1, "models": { "house-llm-7b": { "inputPerMillion": 1, "outputPerMillion": 2, "contextWindow": 32000, "capabilities": "Tools, Streaming" } } }""");
        try
        {
            await using var server = await FakeProviderServer.StartAsync("house", new ServerBehavior { PromptTokens = 1000, CompletionTokens = 1000 });
            var settings = new Dictionary<string, string?>
            {
                ["InferenceRouter:ModelCatalog:Path"] = path,
                ["InferenceRouter:Budgets:Limits:0:Scope"] = "Tenant",
                ["InferenceRouter:Budgets:Limits:0:Window"] = "Day",
                ["InferenceRouter:Budgets:Limits:0:Amount"] = "10",
            };
            using var app = Build(settings, configure: o => o.ModelCatalog.Models["house-llm-7b"] = new ModelCatalogEntry { MaxOutputTokens = 2000 }, routes: ("house", "house-llm-7b", server));
            app.GetRequiredService<IStartupValidator>().Validate();

            var d = app.GetRequiredService<RouterChatClient>().GetRoute("house").Descriptor;
            (d.ContextWindow, d.MaxOutputTokens, d.Capabilities).Should().Be(((int?)32_000, (int?)2_000, (RouteCapabilities?)(RouteCapabilities.Tools | RouteCapabilities.Streaming)));
            var response = await app.GetRequiredService<IChatClient>().GetResponseAsync("Hi", new ChatOptions().ForTenant("acme"));
            response.GetCost()!.Amount.Should().Be(((1000 * 1m) + (1000 * 2m)) / 1_000_000m, "the budget prices the model from the file");
            server.Requests.Single().Body["max_completion_tokens"]!.GetValue<int>().Should().Be(2000, "a call that sets no output limit is held to the model's");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_budgeted_call_without_an_output_limit_still_reserves_the_budget_default_not_the_catalog_limit()
    {
        await using var server = await FakeProviderServer.StartAsync("gpt");
        using var app = Build(
            new()
            {
                ["InferenceRouter:Budgets:Limits:0:Scope"] = "Tenant",
                ["InferenceRouter:Budgets:Limits:0:Window"] = "Day",
                ["InferenceRouter:Budgets:Limits:0:Amount"] = "10",
            },
            ("gpt", "gpt-4.1", server));

        await app.GetRequiredService<IChatClient>().GetResponseAsync("Hi", new ChatOptions().ForTenant("acme"));

        server.Requests.Single().Body["max_completion_tokens"]!.GetValue<int>().Should().Be(4096, "the catalog's 32,768 is the model's ceiling, not a reason to reserve 8x more");
    }

    private static ChatOptions Options(string request)
    {
        var options = new ChatOptions();
        if (request.Contains("tool", StringComparison.Ordinal))
        {
            options.Tools = [AIFunctionFactory.Create((string city) => city, "lookup")];
        }

        if (request == "json schema")
        {
            options.ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse("""{ "type": "object", "properties": { "a": { "type": "string" } } }""").RootElement, "answer");
        }

        if (request == "reasoning")
        {
            options.Reasoning = new ReasoningOptions { Effort = ReasoningEffort.High };
        }

        return options;
    }

    private static List<ChatMessage> Messages(string request) => request.Contains("image", StringComparison.Ordinal)
        ? [new(ChatRole.User, [new TextContent("What is this?"), new UriContent("https://example.com/cat.png", "image/png")])]
        : [new(ChatRole.User, "Hi")];

    private static async Task<ChatResponse> Call(IChatClient client, ChatOptions options, List<ChatMessage> messages, bool streaming) =>
        streaming ? await client.GetStreamingResponseAsync(messages, options).ToChatResponseAsync() : await client.GetResponseAsync(messages, options);

    private static ServiceProvider Build(Dictionary<string, string?> settings, params (string Name, string Model, FakeProviderServer? Server)[] routes) => Build(settings, null, routes);

    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<InferenceRouterOptions>? configure, params (string Name, string Model, FakeProviderServer? Server)[] routes)
    {
        for (int i = 0; i < routes.Length; i++)
        {
            settings.TryAdd($"InferenceRouter:Routes:{i}:Name", routes[i].Name);
            settings.TryAdd($"InferenceRouter:Routes:{i}:Provider", "OpenAICompatible");
            settings.TryAdd($"InferenceRouter:Routes:{i}:Model", routes[i].Model);
            settings.TryAdd($"InferenceRouter:Routes:{i}:Endpoint", routes[i].Server?.BaseUrl.ToString() ?? "http://127.0.0.1:9/v1");
        }

        var services = new ServiceCollection();
        var builder = services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("InferenceRouter"));
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (settings.Keys.Any(k => k.StartsWith("InferenceRouter:Budgets:Limits", StringComparison.Ordinal)))
        {
            builder.UseBudgets();
        }

        return services.BuildServiceProvider();
    }
}
