using System.ClientModel;
using System.ClientModel.Primitives;
using InferenceRouter;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

// OpenAIOnly: the smallest app on InferenceRouter and InferenceRouter.OpenAI alone. One OpenAI-compatible route comes from
// appsettings.json ("Provider": "OpenAICompatible"), one is built in code from the OpenAI SDK. It builds the router and prints
// the routes; with --call it also sends one prompt (an OpenAI-compatible server on localhost:11434, e.g. Ollama, must be up).
var configuration = new ConfigurationBuilder()
    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
    .Build();

var services = new ServiceCollection();
services.AddInferenceRouter(configuration.GetSection(InferenceRouterOptions.SectionName), router =>
{
    // Found without this call when the package is referenced; a trimmed or AOT app makes it.
    router.AddOpenAIProvider();

    // A route built in code: the SDK's retries off (the router fails over), AsRouteClient() for its failure rules.
    var sdk = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri("http://127.0.0.1:8000/v1"), RetryPolicy = new ClientRetryPolicy(0) });
    router.AddRoute(
        new RouteDescriptor("local-vllm") { Provider = "vllm", ModelId = "gpt-4.1-mini", IsLocal = true, TokenCounter = OpenAITokenCounters.ForModel("gpt-4.1-mini") },
        sdk.GetChatClient("gpt-4.1-mini").AsRouteClient());
});

await using var provider = services.BuildServiceProvider();
var routerClient = provider.GetRequiredService<RouterChatClient>();
foreach (var route in routerClient.Routes)
{
    Console.WriteLine($"{route.Name}: provider {route.Descriptor.Provider}, model {route.Descriptor.ModelId}");
}

if (args.Contains("--call"))
{
    var response = await provider.GetRequiredService<IChatClient>().GetResponseAsync("Say hello in five words.");
    Console.WriteLine($"{response.GetRoutingInfo()?.Route}: {response.Text}");
}

return 0;
