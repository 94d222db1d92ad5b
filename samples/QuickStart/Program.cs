using InferenceRouter;
using InferenceRouter.TestServer;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// QuickStart: with no keys and no network, three local OpenAI-compatible endpoints with different latency, price and failure
// profiles stand in for providers. With OPENAI_API_KEY set, or routes in appsettings.json, real providers are routed instead.
// Both add the on-device model under InferenceRouter:LocalModels. With --offline the remote endpoints go away mid-run and the
// calls land on the local model.
var configuration = new ConfigurationBuilder()
    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
    .AddEnvironmentVariables()
    .Build();
var section = configuration.GetSection(InferenceRouterOptions.SectionName);
bool configured = section.GetSection("Routes").GetChildren().Any();
bool offline = args.Contains("--offline");
string? openAiKey = Environment.GetEnvironmentVariable("OPENAI_API_KEY");

var servers = new List<FakeProviderServer>();
var services = new ServiceCollection();
if (configured || !string.IsNullOrEmpty(openAiKey))
{
    services.AddInferenceRouter(section, router =>
    {
        router.AddOpenAIProvider(); // found without this call when the package is referenced; trimmed and AOT apps call it
        if (!configured)
        {
            router.Configure(o => o.Routes.Add(new RouteOptions { Name = "openai-mini", Provider = "OpenAI", Model = "gpt-4.1-mini", InputPricePerMillion = 0.4m, OutputPricePerMillion = 1.6m }));
        }

        router.AddLocalOnnxRoutes();
    }).UseBudgets();
    Console.WriteLine("Routing real providers from configuration.");
}
else
{
    var random = new Random(42);
    var fast = await FakeProviderServer.StartAsync("fast-pricey", new ServerBehavior { Latency = TimeSpan.FromMilliseconds(40), TimeToFirstToken = TimeSpan.FromMilliseconds(20) });
    var cheap = await FakeProviderServer.StartAsync("slow-cheap", new ServerBehavior { Latency = TimeSpan.FromMilliseconds(150), TimeToFirstToken = TimeSpan.FromMilliseconds(120) });
    var flaky = await FakeProviderServer.StartAsync("flaky-mid");
    flaky.Script = _ => random.NextDouble() switch
    {
        < 0.25 => ServerBehavior.Error(503),
        < 0.35 => ServerBehavior.Error(429, retryAfterSeconds: 1),
        _ => new ServerBehavior { Latency = TimeSpan.FromMilliseconds(70), TimeToFirstToken = TimeSpan.FromMilliseconds(40) },
    };
    servers.AddRange([fast, cheap, flaky]);

    services.AddInferenceRouter(section, router =>
    {
        router.AddRoute(new RouteDescriptor("fast-pricey") { Provider = "local-demo", ModelId = "demo-large", Pricing = new RoutePricing(5m, 15m), Capabilities = RouteCapabilities.All, QualityTier = 1 }, fast.CreateChatClient("demo-large"));
        router.AddRoute(new RouteDescriptor("slow-cheap") { Provider = "local-demo", ModelId = "demo-small", Pricing = new RoutePricing(0.1m, 0.4m), Capabilities = RouteCapabilities.All, QualityTier = 0 }, cheap.CreateChatClient("demo-small"));
        router.AddRoute(new RouteDescriptor("flaky-mid") { Provider = "local-demo", ModelId = "demo-medium", Pricing = new RoutePricing(1m, 3m), Capabilities = RouteCapabilities.All }, flaky.CreateChatClient("demo-medium"));
        router.AddLocalOnnxRoutes();

        // Quality tiers: demo-small is tier 0, demo-large tier 1; at most 30% of calls may need the large one.
        router.AddQualityRouting(quality => quality.StrongShare = 0.3);

        // Two demo tenants: "intern" is rejected past a tiny limit; "startup" is downgraded to what its daily budget can take.
        router.ConfigureBudgets(budgets =>
        {
            budgets.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Key = "intern", Amount = 0.001m, Enforcement = BudgetEnforcement.Reject });
            budgets.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Key = "startup", Window = BudgetWindow.Day, Amount = 0.005m, Enforcement = BudgetEnforcement.Downgrade });
        });
    }).UseBudgets();
    Console.WriteLine("No keys found: routing three local demo endpoints (fast & pricey, slow & cheap, flaky).");
}

await using var provider = services.BuildServiceProvider();
var client = provider.GetRequiredService<IChatClient>();
var routerClient = client.GetService<RouterChatClient>()!;

if (offline)
{
    // The network goes away: every remote endpoint stops accepting connections.
    foreach (var server in servers)
    {
        await server.DisposeAsync();
    }

    servers.Clear();
    Console.WriteLine();
    Console.WriteLine("Offline (--offline): the remote endpoints are unreachable.");
    for (int i = 0; i < 4; i++)
    {
        try
        {
            var response = await client.GetResponseAsync("Say hello in five words.", new ChatOptions { MaxOutputTokens = 16 });
            var info = response.GetRoutingInfo()!;
            Console.WriteLine($"  call {i + 1}: answered {(info.IsLocal ? "ON THE DEVICE" : "remotely")} by {info.Route} ({info.ModelId}) after {string.Join(", ", info.Attempts.Select(a => $"{a.Route}: {a.Outcome}"))}; offline = {routerClient.IsOffline}");
            Console.WriteLine($"          {response.Usage?.OutputTokenCount} tokens (a random-weights test model: gibberish is expected): {response.Text.ReplaceLineEndings(" ")}");
        }
        catch (AllRoutesFailedException e)
        {
            Console.WriteLine("  no route could answer: " + e.Message.Split('\n')[0]);
            Console.WriteLine("  (is the local model there? see InferenceRouter:LocalModels in appsettings.json and docs/local-fallback.md)");
        }
    }

    return;
}

int calls = configured || !string.IsNullOrEmpty(openAiKey) ? 3 : 50;
foreach (var policy in new[] { RoutingPolicies.LowestLatency, RoutingPolicies.LowestCost })
{
    Console.WriteLine();
    Console.WriteLine($"Policy {policy}: {calls} calls (every other one streamed)");
    var rows = new Dictionary<string, (int Calls, int Failovers, double LatencyMs, double TtftMs, int Streams)>();
    int failed = 0;
    for (int i = 0; i < calls; i++)
    {
        var options = new ChatOptions { MaxOutputTokens = 64 }.WithPolicy(policy);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var response = i % 2 == 0
                ? await client.GetResponseAsync("Say hello in five words.", options)
                : await client.GetStreamingResponseAsync("Say hello in five words.", options).ToChatResponseAsync();
            var info = response.GetRoutingInfo()!;
            var latency = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            rows.TryGetValue(info.Route, out var row);
            rows[info.Route] = (row.Calls + 1, row.Failovers + info.AttemptCount - 1, row.LatencyMs + latency,
                row.TtftMs + (info.TimeToFirstToken?.TotalMilliseconds ?? 0), row.Streams + (info.TimeToFirstToken is null ? 0 : 1));
        }
        catch (AllRoutesFailedException e)
        {
            failed++;
            Console.WriteLine("  all routes failed: " + e.Message.Split('\n')[0]);
        }
    }

    Console.WriteLine($"  {"route",-14} {"calls",5} {"failovers",9} {"avg latency",12} {"avg TTFT",9}");
    foreach (var (route, row) in rows.OrderByDescending(r => r.Value.Calls))
    {
        string ttft = row.Streams == 0 ? "-" : $"{row.TtftMs / row.Streams:F0} ms";
        Console.WriteLine($"  {route,-14} {row.Calls,5} {row.Failovers,9} {row.LatencyMs / row.Calls,9:F0} ms {ttft,9}");
    }

    if (failed > 0)
    {
        Console.WriteLine($"  {failed} call(s) found no healthy route");
    }
}

Console.WriteLine();
Console.WriteLine("Route health:");
foreach (var health in routerClient.GetHealth())
{
    Console.WriteLine($"  {health.Route,-14} attempts {health.Attempts,3}  ok {health.Successes,3}  failed {health.Failures,3}  latency {health.Latency?.TotalMilliseconds,5:F0} ms  circuit {health.CircuitState}");
}

if (servers.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("Budgets (priority policy, 1,000 output tokens allowed):");
    var big = new ChatOptions { MaxOutputTokens = 1000 }.WithPolicy(RoutingPolicies.Priority);
    try
    {
        await client.GetResponseAsync("Write a long essay.", big.ForTenant("intern"));
    }
    catch (BudgetExceededException e)
    {
        Console.WriteLine("  intern, rejected: " + e.Message);
    }

    var downgraded = await client.GetResponseAsync("Write a long essay.", big.ForTenant("startup"));
    var how = downgraded.GetRoutingInfo()!;
    Console.WriteLine($"  startup, downgraded: answered by {how.Route} for {downgraded.GetCost()!.Amount:0.######} USD after {string.Join(", ", how.Attempts.Select(a => $"{a.Route}: {a.Outcome}"))}");
}

if (servers.Count > 0)
{
    // Quality-aware routing: the cheapest tier predicted to answer well (docs/quality-routing.md). Here from the shipped prior alone,
    // on the prompt's text; an app records outcomes (predictor.RecordOutcomeAsync) and the predictor learns its own traffic.
    var predictor = provider.GetRequiredService<QualityPredictor>();
    using var quality = new QualityChatClient(client, predictor);
    Console.WriteLine();
    Console.WriteLine($"Quality routing ({predictor.Bar}):");
    string[] questions =
    [
        "Say hello in five words.",
        "Statement 1 | Every integral domain has a field of quotients. Statement 2 | A polynomial of degree n over a ring can have at most n zeros counting multiplicity.\nA. True, True\nB. False, False\nC. True, False\nD. False, True",
    ];
    foreach (var question in questions)
    {
        var prediction = await predictor.PredictAsync([new ChatMessage(ChatRole.User, question)]);
        var response = await quality.GetResponseAsync(question, new ChatOptions { MaxOutputTokens = 64 });
        Console.WriteLine($"  {(question.Length > 48 ? question[..45] + "..." : question),-48} predicted gain of the large tier {prediction.GainOver(0):F3} " +
            $"(threshold {prediction.Threshold:F3}) -> {response.GetRoutingInfo()!.Route}");
    }

    Console.WriteLine("  Why? (the quality ranker's verdicts for the second prompt)");
    var why = await quality.ExplainAsync([new ChatMessage(ChatRole.User, questions[1])]);
    foreach (var verdict in why.Routes.SelectMany(r => r.Verdicts.Where(v => v.Policy == RoutingPolicies.Quality).Select(v => (r.Route, v))))
    {
        Console.WriteLine($"    {verdict.Route,-12} {verdict.v}");
    }
}

var report = await provider.GetRequiredService<BudgetManager>().GetReportAsync();
Console.WriteLine();
Console.WriteLine($"Spend per route ({report.Currency}):");
Console.WriteLine($"  {"route",-14} {"calls",5} {"tokens",8} {"cost",10} {"per 1M tokens",14} {"avg latency",12}");
foreach (var spend in report.Routes)
{
    Console.WriteLine($"  {spend.Route,-14} {spend.Calls,5} {spend.InputTokens + spend.OutputTokens,8} {spend.Cost,10:0.000000} {spend.CostPerMillionTokens,14:0.00} {spend.AverageLatency.TotalMilliseconds,9:F0} ms");
}

Console.WriteLine($"  total {report.TotalCost:0.000000}");

// A semantic cache in front: a paraphrase is answered without calling any route (all-MiniLM-L6-v2 embeddings, on the device).
using (var embeddings = new OnnxEmbeddingGenerator())
using (var cached = new SemanticCacheChatClient(client, embeddings))
{
    Console.WriteLine();
    Console.WriteLine("Semantic cache:");
    foreach (var question in new[] { "How can I learn Python quickly?", "How do I learn Python quickly?", "How can I learn Java quickly?" })
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var response = await cached.GetResponseAsync(question, new ChatOptions { MaxOutputTokens = 64 });
        var info = response.GetRoutingInfo();
        var how = info?.CacheHit is { } tier ? $"cache hit ({tier}, similarity {info.Similarity:F3})" : $"answered by {info?.Route ?? "the pipeline"}";
        Console.WriteLine($"  {question,-34} {how}, {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms, cost {response.GetCost()?.Amount ?? 0:0.######}");
    }
}

Console.WriteLine();
Console.WriteLine("Why this route? (lowest-cost, a request with tools)");
Console.WriteLine(routerClient.Explain([new ChatMessage(ChatRole.User, "What's the weather?")], new ChatOptions { Tools = [AIFunctionFactory.Create(() => "sunny", "weather")] }.WithPolicy(RoutingPolicies.LowestCost)));

foreach (var server in servers)
{
    await server.DisposeAsync();
}
