using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceRouter.Tests.Providers;

/// <summary>A capability nobody declared is unknown, not missing: routes from configuration take tool calls; a declaration still excludes.</summary>
public class RouteCapabilitiesTests
{
    [Theory]
    [InlineData("OpenAICompatible")]
    [InlineData("Anthropic")]
    [InlineData("Ollama")]
    public async Task A_route_that_declares_no_capabilities_takes_tools_and_images_and_one_that_declares_them_without_is_skipped(string provider)
    {
        await using var limited = await FakeProviderServer.StartAsync("limited");
        await using var undeclared = await FakeProviderServer.StartAsync("undeclared");
        await using var app = Build(("limited", "OpenAICompatible", limited, "Streaming"), ("undeclared", provider, undeclared, null));
        var client = app.GetRequiredService<IChatClient>();
        int seed = Environment.TickCount;
        var random = new Random(seed);

        for (int i = 0; i < 6; i++)
        {
            // What the request needs, and how it is sent, vary: tools, an image, a JSON schema (OpenAI wire only), streaming or not.
            int need = random.Next(provider == "OpenAICompatible" ? 3 : 2);
            bool streaming = random.Next(2) == 0;
            var (messages, options) = Needing(need);

            var response = streaming
                ? await client.GetStreamingResponseAsync(messages, options).ToChatResponseAsync()
                : await client.GetResponseAsync(messages, options);

            response.GetRoutingInfo()!.Route.Should().Be("undeclared", $"need {need}, streaming {streaming}, seed {seed}");
            response.GetRoutingInfo()!.Skipped.Should().BeEmpty();
        }

        limited.RequestCount.Should().Be(0, "a route that declares Streaming alone is excluded for tools, images and schemas");

        // A plain call fits the declaration: the first route answers it.
        (await client.GetStreamingResponseAsync("Hi").ToChatResponseAsync()).GetRoutingInfo()!.Route.Should().Be("limited");
        var explained = app.GetRequiredService<RouterChatClient>().Explain([new ChatMessage(ChatRole.User, "Hi")], Needing(0).Options);
        explained.Routes.Single(r => r.Route == "limited").ExclusionReason.Should().Be("lacks Tools");
        explained.Routes.Single(r => r.Route == "undeclared").ExclusionReason.Should().BeNull();
    }

    [Fact]
    public void Capabilities_bind_from_configuration_as_declared_and_stay_unknown_when_not()
    {
        using var app = Build(("a", "OpenAICompatible", null, "Tools, Images, JsonSchema, Streaming, Reasoning"), ("b", "OpenAICompatible", null, null));
        var router = app.GetRequiredService<RouterChatClient>();

        router.GetRoute("a").Descriptor.Capabilities.Should().Be(RouteCapabilities.All);
        router.GetRoute("b").Descriptor.Capabilities.Should().BeNull();
        new RouteDescriptor("code").Capabilities.Should().BeNull();
    }

    private static (List<ChatMessage> Messages, ChatOptions Options) Needing(int need)
    {
        var message = new ChatMessage(ChatRole.User, "What is the weather like?");
        var options = new ChatOptions();
        switch (need)
        {
            case 0:
                options.Tools = [AIFunctionFactory.Create((string city) => "sunny", "get_weather")];
                break;
            case 1:
                message.Contents.Add(new DataContent(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, "image/png"));
                break;
            default:
                options.ResponseFormat = ChatResponseFormat.ForJsonSchema(AIJsonUtilities.CreateJsonSchema(typeof(Forecast)), "forecast");
                break;
        }

        return ([message], options);
    }

    private static ServiceProvider Build(params (string Name, string Provider, FakeProviderServer? Server, string? Capabilities)[] routes)
    {
        var settings = new Dictionary<string, string?>();
        for (int i = 0; i < routes.Length; i++)
        {
            var (name, provider, server, capabilities) = routes[i];
            string prefix = $"InferenceRouter:Routes:{i}:";
            settings[prefix + "Name"] = name;
            settings[prefix + "Provider"] = provider;
            settings[prefix + "Endpoint"] = server is null ? "http://127.0.0.1:9/v1" : provider == "OpenAICompatible" ? server.BaseUrl.ToString() : server.RootUrl.ToString();
            settings[prefix + "Model"] = "model-" + name;
            settings[prefix + "ApiKey"] = "test-key";
            if (capabilities is not null)
            {
                settings[prefix + "Capabilities"] = capabilities;
            }
        }

        var services = new ServiceCollection();
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("InferenceRouter"));
        return services.BuildServiceProvider();
    }

    private sealed record Forecast(string City, int Celsius);
}
