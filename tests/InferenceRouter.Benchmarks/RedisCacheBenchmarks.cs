using BenchmarkDotNet.Attributes;
using InferenceRouter.TestServer;
using StackExchange.Redis;

namespace InferenceRouter.Benchmarks;

/// <summary>
/// The shared cache over loopback Redis: how long until an entry stored by instance A is in instance B's local copy and index (a
/// write, a publish, then B's read), and a hit on B once it is (served locally).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(PercentileConfig))]
public class RedisCacheBenchmarks
{
    private static readonly CachedChatResponse Answer = new([new CachedMessage("assistant", "Paris.")], "m", "stop", 10, 2);
    private RedisServer _server = null!;
    private ConnectionMultiplexer _a = null!, _b = null!;
    private RedisCacheStore _storeA = null!, _storeB = null!;
    private float[] _vector = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisServer.StartAsync().GetAwaiter().GetResult();
        _a = ConnectionMultiplexer.Connect(_server.ConnectionString);
        _b = ConnectionMultiplexer.Connect(_server.ConnectionString);
        _storeA = new RedisCacheStore(_a);
        _storeB = new RedisCacheStore(_b);
        Task.WhenAll(_storeA.Subscribed, _storeB.Subscribed).GetAwaiter().GetResult();
        _vector = [.. Enumerable.Range(0, 384).Select(i => (float)Math.Sin(i))];
        _storeB.SetAsync(Entry("known")).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storeA.Dispose();
        _storeB.Dispose();
        _a.Dispose();
        _b.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    public async Task StoredOnAVisibleOnB()
    {
        var entry = Entry("k" + Interlocked.Increment(ref _next));
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnAdded(CacheEntry added)
        {
            if (added.Key == entry.Key)
            {
                seen.TrySetResult();
            }
        }

        _storeB.EntryAdded += OnAdded;
        await _storeA.SetAsync(entry);
        await seen.Task;
        _storeB.EntryAdded -= OnAdded;
    }

    [Benchmark]
    public ValueTask<CacheEntry?> HitOnBOnceKnown() => _storeB.GetAsync("known");

    private CacheEntry Entry(string key) => new(key, "partition", "What is the capital of France?", _vector, Answer, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1));
}
