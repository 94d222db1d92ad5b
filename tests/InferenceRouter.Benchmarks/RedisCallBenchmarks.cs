using BenchmarkDotNet.Attributes;
using InferenceRouter.TestServer;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace InferenceRouter.Benchmarks;

/// <summary>
/// What sharing state through Redis adds to a whole call (cache → budget → router → a provider that answers at once), against the
/// same chain in memory: a miss (reserve, settle and store) and an exact hit. Then a semantic hit on instance B for an answer instance
/// A stored (MiniLM embedding included), against the same hit within one instance. Loopback redis-server, AOF <c>appendfsync always</c>.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RedisCallBenchmarks
{
    private readonly List<ChatMessage> _question = [new(ChatRole.User, "What is the capital of France?")];
    private readonly List<ChatMessage> _paraphrase = [new(ChatRole.User, "Which city is the capital of France?")];
    private readonly ChatOptions _tenant = new ChatOptions { MaxOutputTokens = 500 }.ForTenant("acme");
    private readonly List<IDisposable> _owned = [];
    private RedisServer _server = null!;
    private IChatClient _memory = null!, _redis = null!, _memorySemantic = null!, _semanticOnB = null!;
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        _server = await RedisServer.StartAsync();
        var a = Own(await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString));
        var b = Own(await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString));
        var generator = Own(new OnnxEmbeddingGenerator());

        _memory = Chain(new InMemoryBudgetLedger(), new InMemoryCacheStore(), generator: null);
        var sharedStore = Own(new RedisCacheStore(a));
        await sharedStore.Subscribed;
        _redis = Chain(new RedisBudgetLedger(a, new RedisBudgetLedgerOptions { KeyPrefix = "bench" }), sharedStore, generator: null);

        _memorySemantic = Chain(new InMemoryBudgetLedger(), new InMemoryCacheStore(), generator);
        await _memorySemantic.GetResponseAsync(_question, _tenant);
        var storeA = Own(new RedisCacheStore(a, new RedisCacheStoreOptions { KeyPrefix = "semantic" }));
        var storeB = Own(new RedisCacheStore(b, new RedisCacheStoreOptions { KeyPrefix = "semantic" }));
        await Task.WhenAll(storeA.Subscribed, storeB.Subscribed);
        var onA = Chain(new RedisBudgetLedger(a, new RedisBudgetLedgerOptions { KeyPrefix = "bench" }), storeA, generator);
        _semanticOnB = Chain(new RedisBudgetLedger(b, new RedisBudgetLedgerOptions { KeyPrefix = "bench" }), storeB, generator);
        var seen = new TaskCompletionSource();
        storeB.EntryAdded += _ => seen.TrySetResult();
        await onA.GetResponseAsync(_question, _tenant);
        await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var (client, name) in new[] { (_semanticOnB, "B, stored by A"), (_memorySemantic, "one instance") })
        {
            if ((await client.GetResponseAsync(_paraphrase, _tenant)).GetRoutingInfo()?.CacheHit != CacheTier.Semantic)
            {
                throw new InvalidOperationException($"The paraphrase must be a semantic hit on {name} for this benchmark to mean anything.");
            }
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }

        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "miss (reserve, settle, store), in memory")]
    public Task<ChatResponse> MissInMemory() => _memory.GetResponseAsync(NewQuestion(), _tenant);

    [Benchmark(Description = "miss (reserve, settle, store), on Redis")]
    public Task<ChatResponse> MissOnRedis() => _redis.GetResponseAsync(NewQuestion(), _tenant);

    [Benchmark(Description = "exact hit, in memory")]
    public Task<ChatResponse> HitInMemory() => _memory.GetResponseAsync(_question, _tenant);

    [Benchmark(Description = "exact hit, on Redis")]
    public Task<ChatResponse> HitOnRedis() => _redis.GetResponseAsync(_question, _tenant);

    [Benchmark(Description = "semantic hit incl. embedding, one instance")]
    public Task<ChatResponse> SemanticHitInMemory() => _memorySemantic.GetResponseAsync(_paraphrase, _tenant);

    [Benchmark(Description = "semantic hit incl. embedding, on B for A's answer")]
    public Task<ChatResponse> SemanticHitOnB() => _semanticOnB.GetResponseAsync(_paraphrase, _tenant);

    private List<ChatMessage> NewQuestion() => [new(ChatRole.User, "Question number " + Interlocked.Increment(ref _next))];

    private IChatClient Chain(IBudgetLedger ledger, ICacheStore store, IEmbeddingGenerator<string, Embedding<float>>? generator)
    {
        var options = new BudgetOptions();
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Global, Window = BudgetWindow.Month, Amount = 1_000_000m });
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Window = BudgetWindow.Day, Amount = 1_000_000m });
        var budget = Own(new BudgetManager(options, ledger));
        var router = new RouterChatClient([new ChatRoute(
            new RouteDescriptor("route") { ModelId = "gpt-4.1-mini", Pricing = new RoutePricing(0.4m, 1.6m), ContextWindow = 1_000_000, Capabilities = RouteCapabilities.All },
            new NoOpChatClient())]);
        return Own(new SemanticCacheChatClient(new BudgetChatClient(router, budget), generator, store));
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
