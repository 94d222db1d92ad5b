using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Benchmarks;

/// <summary>What the router adds to a call: 8 routes, the default policy (standard filters + priority), health, circuit breakers, telemetry.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class RouterOverheadBenchmarks
{
    private const int RouteCount = 8;
    private readonly List<ChatMessage> _messages = [new(ChatRole.User, "What is the capital of France?")];
    private IChatClient _direct = null!;
    private RouterChatClient _router = null!;
    private RouterChatClient _routerWithTimeout = null!;
    private RouterChatClient _routerWithoutBreaker = null!;
    private RouterChatClient _routerLowestLatency = null!;
    private RouterChatClient _routerWithQuota = null!;
    private OrderedFailoverChatClient _failover = null!;
    private BudgetManager _budget = null!;
    private IChatClient _budgeted = null!;
    private readonly ChatOptions _tenantOptions = new ChatOptions { MaxOutputTokens = 500 }.ForTenant("acme");

    [GlobalSetup]
    public void Setup()
    {
        _direct = new NoOpChatClient();
        _router = new RouterChatClient(CreateRoutes());
        _routerWithTimeout = new RouterChatClient(CreateRoutes(), new RouterOptions { AttemptTimeout = TimeSpan.FromMinutes(1) });
        _routerWithoutBreaker = new RouterChatClient(CreateRoutes(), new RouterOptions { CircuitBreaker = { Enabled = false } });
        _routerLowestLatency = new RouterChatClient(CreateRoutes(), new RouterOptions { DefaultPolicy = RoutingPolicies.LowestLatency });
        // Every limit a quota has, each far beyond what the benchmark sends, so each call is admitted: the cost of admission itself.
        _routerWithQuota = new RouterChatClient(CreateRoutes(new RouteQuota { RequestsPerMinute = int.MaxValue, TokensPerMinute = int.MaxValue, MaxConcurrency = 1_000 }));
        var budgetOptions = new BudgetOptions();
        budgetOptions.Limits.Add(new BudgetLimit { Scope = BudgetScope.Global, Window = BudgetWindow.Month, Amount = 1_000_000m });
        budgetOptions.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Window = BudgetWindow.Day, Amount = 1_000_000m });
        _budget = new BudgetManager(budgetOptions);
        _budgeted = new BudgetChatClient(new RouterChatClient(CreateRoutes()), _budget);
        _failover = new OrderedFailoverChatClient([.. Enumerable.Range(0, RouteCount).Select(_ => (IChatClient)new NoOpChatClient())]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _router.Dispose();
        _routerWithTimeout.Dispose();
        _routerWithoutBreaker.Dispose();
        _routerLowestLatency.Dispose();
        _routerWithQuota.Dispose();
        _failover.Dispose();
        _budgeted.Dispose();
        _budget.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<ChatResponse> Direct() => _direct.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> Router() => _router.GetResponseAsync(_messages);

    [Benchmark(Description = "Router + quota (requests, tokens, concurrency)")]
    public Task<ChatResponse> RouterWithQuota() => _routerWithQuota.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> RouterWithAttemptTimeout() => _routerWithTimeout.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> RouterWithoutCircuitBreaker() => _routerWithoutBreaker.GetResponseAsync(_messages);

    [Benchmark(Description = "Router, lowest-latency policy")]
    public Task<ChatResponse> RouterLowestLatency() => _routerLowestLatency.GetResponseAsync(_messages);

    [Benchmark(Description = "Router + budget (2 limits)")]
    public Task<ChatResponse> RouterWithBudget() => _budgeted.GetResponseAsync(_messages, _tenantOptions);

    [Benchmark]
    public Task<ChatResponse> MeaiOrderedFailover() => _failover.GetResponseAsync(_messages);

    [Benchmark]
    public Task<int> DirectStream() => Drain(_direct);

    [Benchmark]
    public Task<int> RouterStream() => Drain(_router);

    [Benchmark]
    public Task<int> MeaiOrderedFailoverStream() => Drain(_failover);

    private static IEnumerable<ChatRoute> CreateRoutes(RouteQuota? quota = null) => Enumerable.Range(0, RouteCount).Select(i => new ChatRoute(
        new RouteDescriptor($"route-{i}") { ModelId = "gpt-4.1-mini", Pricing = new RoutePricing(0.4m, 1.6m), ContextWindow = 1_000_000, Capabilities = RouteCapabilities.All, Quota = quota },
        new NoOpChatClient()));

    private async Task<int> Drain(IChatClient client)
    {
        int count = 0;
        await foreach (var update in client.GetStreamingResponseAsync(_messages).ConfigureAwait(false))
        {
            count++;
        }

        return count;
    }
}
