using InferenceRouter;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// OnDevice: calls marked KeepOnDevice() never leave the machine, and when the network is gone every call lands on the local
// ONNX model. The "cloud" route in appsettings.json points at a port where nothing listens: the app is offline from the start.
var configuration = new ConfigurationBuilder()
    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
    .Build();
var section = configuration.GetSection(InferenceRouterOptions.SectionName);
string modelPath = Path.GetFullPath(section["LocalModels:local:ModelPath"] ?? "");
if (!File.Exists(Path.Combine(modelPath, "genai_config.json")))
{
    Console.WriteLine($"No local model at {modelPath}.");
    Console.WriteLine("Put an ONNX Runtime GenAI model folder there (one with genai_config.json), or set InferenceRouter:LocalModels:local:ModelPath");
    Console.WriteLine("in appsettings.json; from the repository root the test model is ../shared/models/tiny-gpt2-genai. See docs/local-fallback.md.");
    return 0;
}

var services = new ServiceCollection();
services.AddInferenceRouter(section, router => router.AddLocalOnnxRoutes());
await using var provider = services.BuildServiceProvider();
var client = provider.GetRequiredService<IChatClient>();
var router = provider.GetRequiredService<RouterChatClient>();
Console.WriteLine("(a random-weights test model answers: gibberish is expected)");

// 1. A private call: only on-device routes are candidates, whatever the policy.
var privateAnswer = await client.GetResponseAsync("Summarise my medical notes.", new ChatOptions { MaxOutputTokens = 16 }.KeepOnDevice());
Report("private call", privateAnswer);

// 2. An ordinary call: the cloud route cannot be reached, so the router fails over to the device and notes it is offline.
var ordinary = await client.GetResponseAsync("Say hello in five words.", new ChatOptions { MaxOutputTokens = 16 });
Report("ordinary call", ordinary);
Console.WriteLine($"  offline now: {router.IsOffline} (local routes go first for {section["OfflineInterval"]})");

// 3. Streaming while offline: the local model streams too.
Console.Write("streamed call: ");
await foreach (var update in client.GetStreamingResponseAsync("Count to three.", new ChatOptions { MaxOutputTokens = 12 }))
{
    Console.Write(update.Text.ReplaceLineEndings(" "));
}

Console.WriteLine();

// 4. A semantic cache with embeddings computed on the device (all-MiniLM-L6-v2, shipped in InferenceRouter.Onnx).
using var embeddings = new OnnxEmbeddingGenerator();
// The test model always stops at its token limit, and the cache keeps no cut-off answer unless told to.
using var cached = new SemanticCacheChatClient(client, embeddings, options: new SemanticCacheOptions { StoreTruncatedResponses = true });
foreach (var question in new[] { "How can I learn Python quickly?", "How do I learn Python quickly?", "How can I learn Java quickly?" })
{
    var response = await cached.GetResponseAsync(question, new ChatOptions { MaxOutputTokens = 16 }.KeepOnDevice());
    var info = response.GetRoutingInfo();
    Console.WriteLine($"{question,-34} {(info?.CacheHit is { } tier ? $"cache hit ({tier}, similarity {info.Similarity:F3})" : $"answered by {info?.Route}")}");
}

return 0;

static void Report(string what, ChatResponse response)
{
    var info = response.GetRoutingInfo()!;
    Console.WriteLine($"{what}: answered {(info.IsLocal ? "ON THE DEVICE" : "remotely")} by {info.Route} after {string.Join(", ", info.Attempts.Select(a => $"{a.Route}: {a.Outcome}"))}");
    Console.WriteLine($"  {response.Usage?.OutputTokenCount} tokens: {response.Text.ReplaceLineEndings(" ")}");
}
