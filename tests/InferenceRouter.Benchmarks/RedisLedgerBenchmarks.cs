using BenchmarkDotNet.Attributes;
using InferenceRouter.TestServer;
using StackExchange.Redis;

namespace InferenceRouter.Benchmarks;

/// <summary>
/// The Redis ledger over loopback (a real redis-server with AOF, its writes reaching the disk at every write as the tests run it, or
/// once a second): one reserve + settle pair (two round trips), against the in-memory ledger's; the percentiles show the tail.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(PercentileConfig))]
public class RedisLedgerBenchmarks
{
    private static readonly BudgetAccount[] Accounts =
    [
        new(new BudgetAccountKey("global/lifetime", string.Empty, DateTimeOffset.UnixEpoch), 100_000_000m, TimeSpan.Zero),
        new(new BudgetAccountKey("tenant/day", "acme", DateTimeOffset.UnixEpoch), 100_000_000m, TimeSpan.Zero),
    ];

    private RedisServer _server = null!;
    private ConnectionMultiplexer _redis = null!;
    private RedisBudgetLedger _ledger = null!;
    private InMemoryBudgetLedger _memory = null!;

    /// <summary>Gets or sets Redis's <c>appendfsync</c>.</summary>
    [Params("always", "everysec")]
    public string AppendFsync { get; set; } = "always";

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisServer.StartAsync(AppendFsync).GetAwaiter().GetResult();
        _redis = ConnectionMultiplexer.Connect(_server.ConnectionString);
        _ledger = new RedisBudgetLedger(_redis, new RedisBudgetLedgerOptions { KeyPrefix = "bench" });
        _memory = new InMemoryBudgetLedger();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _redis.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _memory.Dispose();
    }

    [Benchmark]
    public async Task<BudgetSettlement> RedisReserveAndSettle()
    {
        var reservation = await _ledger.ReserveAsync(Accounts, 0.01m, DateTimeOffset.UtcNow.AddMinutes(5));
        return await _ledger.SettleAsync(reservation, 0.004m);
    }

    [Benchmark(Baseline = true)]
    public async Task<BudgetSettlement> InMemoryReserveAndSettle()
    {
        var reservation = await _memory.ReserveAsync(Accounts, 0.01m, DateTimeOffset.UtcNow.AddMinutes(5));
        return await _memory.SettleAsync(reservation, 0.004m);
    }
}
