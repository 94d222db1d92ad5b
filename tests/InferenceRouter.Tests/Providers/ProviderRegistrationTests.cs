using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace InferenceRouter.Tests.Providers;

/// <summary>Providers resolved by name: a missing package fails at start naming it; registered and custom providers are found.</summary>
public class ProviderRegistrationTests
{
    [Fact]
    public void A_route_whose_provider_package_is_not_referenced_fails_at_start_naming_the_package()
    {
        // Discovery off stands in for an app that does not reference InferenceRouter.Anthropic.
        using var missing = Build("anthropic", r => r.DiscoverProviders = false);

        FluentActions.Invoking(() => missing.GetRequiredService<IStartupValidator>().Validate())
            .Should().Throw<OptionsValidationException>()
            .WithMessage("*Routes:0 ('claude'):Provider 'anthropic'*dotnet add package InferenceRouter.Anthropic*AddAnthropicProvider()*");

        using var registered = Build("anthropic", r =>
        {
            r.DiscoverProviders = false;
            r.AddAnthropicProvider();
        });
        FluentActions.Invoking(() => registered.GetRequiredService<IStartupValidator>().Validate()).Should().NotThrow();
        registered.GetRequiredService<RouterChatClient>().GetRoute("claude").Descriptor.Provider.Should().Be("anthropic");
    }

    [Fact]
    public void An_unknown_provider_fails_at_start_listing_the_providers_and_the_packages()
    {
        using var services = Build("Bedrock");

        FluentActions.Invoking(() => services.GetRequiredService<IStartupValidator>().Validate())
            .Should().Throw<OptionsValidationException>()
            .WithMessage("*Provider 'Bedrock' is unknown. Available: Anthropic, AzureOpenAI, Keyed, Ollama, OpenAI, OpenAICompatible.*Anthropic in InferenceRouter.Anthropic*AddProvider*");
    }

    [Fact]
    public async Task Referenced_first_party_providers_are_discovered_and_a_custom_provider_is_selected_by_name()
    {
        using var discovered = Build("OpenAICompatible", configure: null, endpoint: "http://127.0.0.1:9/v1");
        var route = discovered.GetRequiredService<RouterChatClient>().GetRoute("claude");
        route.Descriptor.Provider.Should().Be("openai-compatible");
        route.Client.GetService<IProviderFailureClassifier>().Should().NotBeNull("configuration-built clients carry their SDK's failure rules");

        using var custom = Build("house", r => r.AddProvider(new HouseProvider()));
        var response = await custom.GetRequiredService<IChatClient>().GetResponseAsync("Hi");
        response.Text.Should().Be("from the house provider");
        response.GetRoutingInfo()!.Provider.Should().Be("house");
    }

    private static ServiceProvider Build(string provider, Action<InferenceRouterBuilder>? configure = null, string? endpoint = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Routes:0:Name"] = "claude",
            ["InferenceRouter:Routes:0:Provider"] = provider,
            ["InferenceRouter:Routes:0:Model"] = "claude-x",
            ["InferenceRouter:Routes:0:ApiKey"] = "test-key",
            ["InferenceRouter:Routes:0:Endpoint"] = endpoint,
        }).Build();
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection("InferenceRouter"), configure);
        return services.BuildServiceProvider();
    }

    private sealed class HouseProvider : RouteProvider
    {
        public override IReadOnlyList<string> Names { get; } = ["House"];

        public override IChatClient CreateClient(RouteOptions route, RouteProviderContext context) => TestChatClient.Answering("from the house provider");
    }
}
