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
    private OrderedFailoverChatClient _failover = null!;

    [GlobalSetup]
    public void Setup()
    {
        _direct = new NoOpChatClient();
        _router = new RouterChatClient(CreateRoutes());
        _routerWithTimeout = new RouterChatClient(CreateRoutes(), new RouterOptions { AttemptTimeout = TimeSpan.FromMinutes(1) });
        _routerWithoutBreaker = new RouterChatClient(CreateRoutes(), new RouterOptions { CircuitBreaker = { Enabled = false } });
        _failover = new OrderedFailoverChatClient([.. Enumerable.Range(0, RouteCount).Select(_ => (IChatClient)new NoOpChatClient())]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _router.Dispose();
        _routerWithTimeout.Dispose();
        _routerWithoutBreaker.Dispose();
        _failover.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<ChatResponse> Direct() => _direct.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> Router() => _router.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> RouterWithAttemptTimeout() => _routerWithTimeout.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> RouterWithoutCircuitBreaker() => _routerWithoutBreaker.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> MeaiOrderedFailover() => _failover.GetResponseAsync(_messages);

    [Benchmark]
    public Task<int> DirectStream() => Drain(_direct);

    [Benchmark]
    public Task<int> RouterStream() => Drain(_router);

    [Benchmark]
    public Task<int> MeaiOrderedFailoverStream() => Drain(_failover);

    private static IEnumerable<ChatRoute> CreateRoutes() => Enumerable.Range(0, RouteCount).Select(i => new ChatRoute(
        new RouteDescriptor($"route-{i}") { ModelId = "gpt-4.1-mini", Pricing = new RoutePricing(0.4m, 1.6m), ContextWindow = 1_000_000, Capabilities = RouteCapabilities.All },
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
