using InferenceRouter.TestServer;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary>
/// The shared state on a Redis Cluster (one node holding every slot, so Cluster's key rules apply): every script's keys, the expired
/// reservations' accounts it touches included, share the prefix's hash slot, and listing finds the shard that holds them.
/// </summary>
public class RedisClusterTests
{
    [RedisFact]
    public async Task The_ledger_the_cache_and_quality_sharing_work_on_a_cluster()
    {
        await using var server = await RedisServer.StartAsync(cluster: true);
        using var a = await server.ConnectAsync();
        using var b = await server.ConnectAsync();
        a.GetServer(a.GetEndPoints()[0]).ServerType.Should().Be(ServerType.Cluster);

        // Ledger: a reservation left open by one instance is charged at its expiry by the other's script.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var ledgerA = new RedisBudgetLedger(a, new RedisBudgetLedgerOptions { KeyPrefix = "cluster" }, timeProvider: time);
        var ledgerB = new RedisBudgetLedger(b, new RedisBudgetLedgerOptions { KeyPrefix = "cluster" }, timeProvider: time);
        BudgetAccount[] accounts =
        [
            new(new BudgetAccountKey("global", string.Empty, DateTimeOffset.UnixEpoch), 100m, TimeSpan.Zero),
            new(new BudgetAccountKey("tenant", "acme", DateTimeOffset.UnixEpoch), 10m, TimeSpan.Zero),
            new(new BudgetAccountKey("user-hour", "ann", DateTimeOffset.UnixEpoch), 5m, TimeSpan.FromHours(1)),
        ];
        (await ledgerA.ReserveAsync(accounts, 1m, time.GetUtcNow().AddMinutes(1))).IsGranted.Should().BeTrue();
        var settled = await ledgerB.ReserveAsync(accounts, 0.5m, time.GetUtcNow().AddMinutes(10));
        (await ledgerB.SettleAsync(settled, 0.2m)).Applied.Should().BeTrue();
        time.Advance(TimeSpan.FromMinutes(2));
        (await ledgerB.ReserveAsync(accounts, 0m, time.GetUtcNow().AddMinutes(10))).IsGranted.Should().BeTrue();
        var balances = await ledgerB.GetBalancesAsync();
        balances.Should().HaveCount(3).And.OnlyContain(x => x.Spent == 1.2m && x.Reserved == 0m, "0.20 settled + 1.00 charged at expiry, in every account");

        // Cache: stored on A, read on B, loaded by a store started later.
        using var storeA = new RedisCacheStore(a);
        using var storeB = new RedisCacheStore(b);
        var entry = new CacheEntry("k", "p", "q", new float[] { 1, 0 }, new CachedChatResponse([new CachedMessage("assistant", "a")], null, null, null, null), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
        await storeA.SetAsync(entry);
        (await storeB.GetAsync("k")).Should().NotBeNull();
        using var storeC = new RedisCacheStore(b);
        (await storeC.ReadAllAsync().ToListAsync()).Should().ContainSingle(e => e.Key == "k");

        // Quality: an outcome recorded on A is learned by B.
        using var predictorA = new QualityPredictor();
        using var predictorB = new QualityPredictor();
        using var syncA = new RedisQualitySync(a, predictorA, options: new RedisQualitySyncOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
        using var syncB = new RedisQualitySync(b, predictorB, options: new RedisQualitySyncOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
        predictorA.RecordOutcome("Prove that there are infinitely many primes.", [], 0, 0);
        await Eventually.TrueAsync(() => predictorB.OutcomeCount == 1, "B learned A's outcome on the cluster");
    }
}
