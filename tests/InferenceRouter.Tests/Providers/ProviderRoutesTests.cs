using InferenceRouter.TestServer;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Providers;

/// <summary>
/// Anthropic (official SDK), Ollama (OllamaSharp) and keyed routes built only from configuration, against loopback servers speaking
/// each provider's wire format: they answer, stream, report usage and cost, and fail over to each other.
/// </summary>
public class ProviderRoutesTests
{
    [Theory]
    [InlineData("Anthropic", false)]
    [InlineData("Anthropic", true)]
    [InlineData("Ollama", false)]
    [InlineData("Ollama", true)]
    public async Task A_configured_route_answers_streams_and_reports_usage_and_cost(string provider, bool streaming)
    {
        await using var server = await FakeProviderServer.StartAsync(provider.ToLowerInvariant());
        await using var app = Build(("only", provider, server));
        var client = app.GetRequiredService<IChatClient>();

        var response = streaming
            ? await client.GetStreamingResponseAsync("Hi").ToChatResponseAsync()
            : await client.GetResponseAsync("Hi");

        response.Text.Should().Be($"Hello from {provider.ToLowerInvariant()}");
        server.Requests.Single().Path.Should().Be(provider == "Anthropic" ? "/v1/messages" : "/api/chat");
        server.Requests.Single().Model.Should().Be("model-only");
        response.Usage.Should().Match<UsageDetails>(u => u.InputTokenCount == 11 && u.OutputTokenCount == 7);
        var cost = response.GetCost() ?? throw new InvalidOperationException("no cost");
        cost.Amount.Should().Be(((11 * 3m) + (7 * 15m)) / 1_000_000m);
        cost.IsEstimated.Should().BeFalse();
        response.GetRoutingInfo()!.Provider.Should().Be(provider.ToLowerInvariant());
    }

    [Theory]
    [InlineData(429, false)]
    [InlineData(529, false)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public async Task Calls_fail_over_across_providers_of_different_wire_formats(int status, bool streaming)
    {
        await using var claude = await FakeProviderServer.StartAsync("claude", ServerBehavior.Error(status, retryAfterSeconds: status == 429 ? 30 : null));
        await using var llama = await FakeProviderServer.StartAsync("llama", new ServerBehavior { Fault = ServerFault.DropBeforeResponse });
        await using var gpt = await FakeProviderServer.StartAsync("gpt");
        await using var app = Build(("claude", "Anthropic", claude), ("llama", "Ollama", llama), ("gpt", "OpenAICompatible", gpt));
        var client = app.GetRequiredService<IChatClient>();

        var response = streaming
            ? await client.GetStreamingResponseAsync("Hi").ToChatResponseAsync()
            : await client.GetResponseAsync("Hi");

        response.Text.Should().Be("Hello from gpt");
        var info = response.GetRoutingInfo()!;
        info.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("claude", RouteAttemptOutcome.Failed), ("llama", RouteAttemptOutcome.Failed), ("gpt", RouteAttemptOutcome.Succeeded));
        info.Attempts[0].StatusCode.Should().Be(status);

        // Back the other way: the OpenAI-format route fails, the Anthropic and Ollama ones answer.
        claude.DefaultBehavior = ServerBehavior.Ok;
        llama.DefaultBehavior = ServerBehavior.Ok;
        gpt.DefaultBehavior = new ServerBehavior { Fault = ServerFault.MalformedBody };
        var back = await client.GetResponseAsync("Hi", new ChatOptions().WithPolicy("reverse"));
        back.Text.Should().Be("Hello from llama");
        back.GetRoutingInfo()!.Attempts[0].Route.Should().Be("gpt");
    }

    [Theory]
    [InlineData("Anthropic", "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", "text/event-stream")]
    [InlineData("Ollama", "{\"error\":\"model is overloaded, retry later\"}\n", "application/x-ndjson")]
    public async Task An_error_inside_a_200_stream_fails_over(string provider, string body, string contentType)
    {
        await using var broken = await FakeProviderServer.StartAsync("broken", new ServerBehavior { RawBody = body, RawContentType = contentType });
        await using var gpt = await FakeProviderServer.StartAsync("gpt");
        await using var app = Build(("broken", provider, broken), ("gpt", "OpenAICompatible", gpt));

        var response = await app.GetRequiredService<IChatClient>().GetStreamingResponseAsync("Hi").ToChatResponseAsync();

        response.Text.Should().Be("Hello from gpt");
        response.GetRoutingInfo()!.Attempts.Select(a => (a.Route, a.Outcome)).Should().Equal(("broken", RouteAttemptOutcome.Failed), ("gpt", RouteAttemptOutcome.Succeeded));
    }

    [Fact]
    public async Task A_stream_that_drops_part_way_on_anthropic_or_ollama_surfaces_and_counts_as_a_failure()
    {
        foreach (var provider in new[] { "Anthropic", "Ollama" })
        {
            await using var server = await FakeProviderServer.StartAsync("dying", new ServerBehavior { Fault = ServerFault.DropMidStream, DropAfterChunks = 2 });
            await using var app = Build(("dying", provider, server));
            var client = app.GetRequiredService<IChatClient>();

            var read = new List<string>();
            await FluentActions.Awaiting(async () =>
            {
                await foreach (var update in client.GetStreamingResponseAsync("Hi"))
                {
                    read.Add(update.Text);
                }
            }).Should().ThrowAsync<Exception>(provider);

            string.Concat(read).Should().NotBeEmpty(provider);
            app.GetRequiredService<RouterChatClient>().GetRoute("dying").Health.GetSnapshot().Failures.Should().Be(1, provider);
        }
    }

    [Fact]
    public async Task A_keyed_client_from_dependency_injection_is_routed_like_any_provider()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Routes:0:Name"] = "in-house",
            ["InferenceRouter:Routes:0:Provider"] = "Keyed",
            ["InferenceRouter:Routes:0:ServiceKey"] = "house",
            ["InferenceRouter:Routes:0:Model"] = "house-1",
        }).Build();
        var services = new ServiceCollection();
        services.AddKeyedChatClient("house", TestChatClient.Answering("from the house model"));
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"));
        await using var provider = services.BuildServiceProvider();

        var response = await provider.GetRequiredService<IChatClient>().GetResponseAsync("Hi");

        response.Text.Should().Be("from the house model");
        response.GetRoutingInfo()!.Provider.Should().Be("house");

        var missing = new ServiceCollection();
        missing.AddInferenceRouter(configuration.GetSection("InferenceRouter"));
        await using var broken = missing.BuildServiceProvider();
        FluentActions.Invoking(() => broken.GetRequiredService<Microsoft.Extensions.Options.IOptions<InferenceRouterOptions>>().Value)
            .Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*'in-house'*key 'house'*AddKeyedChatClient*");
    }

    [Fact]
    public void Provider_settings_are_validated_naming_the_fix()
    {
        var keyed = new RouteOptions { Name = "k", Provider = "Keyed" };
        keyed.GetValidationErrors("Routes:0", new RouteProviderRegistry([], discover: true)).Should().ContainMatch("*ServiceKey is missing*");
        var anthropic = new RouteOptions { Name = "a", Provider = "Anthropic", Model = "claude-x", ApiKeyEnvironmentVariable = "INFERENCE_ROUTER_TEST_UNSET_ANTHROPIC" };
        anthropic.GetValidationErrors("Routes:0", new RouteProviderRegistry([], discover: true)).Should().ContainMatch("*no API key*INFERENCE_ROUTER_TEST_UNSET_ANTHROPIC*");
    }

    private static ServiceProvider Build(params (string Name, string Provider, FakeProviderServer Server)[] routes)
    {
        var settings = new Dictionary<string, string?> { ["InferenceRouter:CircuitBreaker:Enabled"] = "false" };
        for (int i = 0; i < routes.Length; i++)
        {
            var (name, provider, server) = routes[i];
            string prefix = $"InferenceRouter:Routes:{i}:";
            settings[prefix + "Name"] = name;
            settings[prefix + "Provider"] = provider;
            settings[prefix + "Endpoint"] = provider == "OpenAICompatible" ? server.BaseUrl.ToString() : server.RootUrl.ToString();
            settings[prefix + "Model"] = "model-" + name;
            settings[prefix + "ApiKey"] = "test-key";
            settings[prefix + "InputPricePerMillion"] = "3";
            settings[prefix + "OutputPricePerMillion"] = "15";
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), r => r.AddPolicy(new ReversePolicy()));
        return services.BuildServiceProvider();
    }

    /// <summary>The routes in reverse registration order.</summary>
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
}
