using BenchmarkDotNet.Attributes;
using InferenceRouter.TestServer;
using StackExchange.Redis;

namespace InferenceRouter.Benchmarks;

/// <summary>
/// Shared route health over loopback Redis: an operator drains a route on instance A, and the time until instance B skips it too (a
/// publish, then B applies it); then the restore, the same way. One operation is both, so a signal takes half of it.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(PercentileConfig))]
public class RedisHealthBenchmarks
{
    private RedisServer _server = null!;
    private ConnectionMultiplexer _a = null!, _b = null!;
    private RouterChatClient _routerA = null!, _routerB = null!;
    private RedisRouteHealthSync _syncA = null!, _syncB = null!;
    private RouteHealth _healthOnB = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _server = await RedisServer.StartAsync();
        _a = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString);
        _b = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString);
        _routerA = Router();
        _routerB = Router();
        _syncA = new RedisRouteHealthSync(_a, _routerA);
        _syncB = new RedisRouteHealthSync(_b, _routerB);
        await Task.WhenAll(_syncA.Subscribed, _syncB.Subscribed);
        _healthOnB = _routerB.GetRoute("primary").Health;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _syncA.Dispose();
        _syncB.Dispose();
        _routerA.Dispose();
        _routerB.Dispose();
        _a.Dispose();
        _b.Dispose();
        await _server.DisposeAsync();
    }

    [Benchmark(Description = "drain on A seen by B, then restore on A seen by B")]
    public async Task DrainAndRestoreSeenByB()
    {
        _routerA.DrainRoute("primary");
        while (!_healthOnB.IsDrained)
        {
            await Task.Yield();
        }

        _routerA.RestoreRoute("primary");
        while (_healthOnB.IsDrained)
        {
            await Task.Yield();
        }
    }

    private static RouterChatClient Router() => new(new[] { "primary", "secondary" }.Select(name => new ChatRoute(
        new RouteDescriptor(name) { ModelId = "gpt-4.1-mini", Capabilities = RouteCapabilities.All }, new NoOpChatClient())));
}
