using System.Diagnostics.Metrics;
using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary>
/// The Redis ledger's arithmetic is exact at every size a limit allows, and one damaged record in Redis never stops the ledger for the
/// accounts that do not touch it.
/// </summary>
public sealed class RedisLedgerIntegrityTests
{
    private const string DamagedInstrument = "inference_router.budget.ledger_damaged_records";
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly decimal LargestLimit = 100_000_000m;   // BudgetUnits.MaxAmount

    private static BudgetAccount Account(string limit, decimal amount, string scope = "", TimeSpan rolling = default) =>
        new(new BudgetAccountKey(limit, scope, DateTimeOffset.UnixEpoch), amount, rolling);

    /// <summary>A random amount with ten decimals, up to <paramref name="max"/>: a spread of sizes, most far above 2⁵³ units.</summary>
    private static decimal Amount(Random random, decimal max)
    {
        decimal scale = (decimal)Math.Pow(10, random.Next(-3, 9));
        return Math.Min(max, Math.Round((decimal)random.NextDouble() * scale, 10));
    }

    [RedisFact]
    public async Task Huge_amounts_stay_exact_integers_through_reserve_settle_release_expiry_and_late_settlement()
    {
        await using var server = await RedisServer.StartAsync();
        using var redisA = await server.ConnectAsync();
        using var redisB = await server.ConnectAsync();
        var time = new FakeTimeProvider(Start);
        var options = new RedisBudgetLedgerOptions { KeyPrefix = "huge", OperationTimeout = TimeSpan.FromSeconds(10) };
        using var ledger = new RedisBudgetLedger(redisA, options, time);
        using var other = new RedisBudgetLedger(redisB, options, time);
        BudgetAccount[] accounts = [Account("global", LargestLimit), Account("tenant", LargestLimit, "acme"), Account("rolling", LargestLimit, rolling: TimeSpan.FromDays(30))];
        var random = new Random(9);
        decimal spent = 0m;
        var expiring = new List<(BudgetReservation Reservation, int Ending)>();

        for (int i = 0; i < 300; i++)
        {
            var balance = (await ledger.GetBalancesAsync()).SingleOrDefault(b => b.Key.Limit == "tenant");   // none before the first reservation
            decimal room = LargestLimit - balance.Spent - balance.Reserved;
            decimal amount = i == 0 ? LargestLimit / 2 : Amount(random, room);
            var reservation = await ledger.ReserveAsync(accounts, amount, time.GetUtcNow().AddMinutes(1));
            reservation.IsGranted.Should().BeTrue("{0} fits the {1} left", amount, room);
            switch (random.Next(4))
            {
                case 0:
                    (await ledger.ReleaseAsync(reservation)).Should().BeTrue();
                    break;
                case 1:
                    expiring.Add((reservation, random.Next(3)));   // left open: expiry charges it
                    break;
                default:
                    decimal cost = Math.Round(amount * (decimal)random.NextDouble(), 10);
                    var settled = await ledger.SettleAsync(reservation, cost);
                    settled.Applied.Should().BeTrue();
                    spent += cost;
                    settled.Balances.Single(b => b.Key.Limit == "tenant").Spent.Should().Be(spent, "settlement {0} of {1}", i, cost);
                    break;
            }

            if (i % 50 == 49)
            {
                // Another instance charges the expired ones; then some are settled late (the real cost replaces the charge) or released.
                time.Advance(TimeSpan.FromMinutes(2));
                await other.ChargeExpiredAsync();
                foreach (var (open, ending) in expiring)
                {
                    if (ending == 0)
                    {
                        spent += open.Amount;   // the caller vanished: charged what it held
                    }
                    else if (ending == 1)
                    {
                        (await other.ReleaseAsync(open)).Should().BeTrue("a late release refunds the expiry charge");
                    }
                    else
                    {
                        decimal cost = Math.Round(open.Amount / 3, 10);
                        (await other.SettleAsync(open, cost)).Late.Should().BeTrue();
                        spent += cost;
                    }
                }

                expiring.Clear();
            }
        }

        var balances = await ledger.GetBalancesAsync();
        balances.Should().HaveCount(3).And.OnlyContain(b => b.Reserved == 0m && b.Spent == spent, "every account holds exactly the sum of what was charged: {0}", spent);
        spent.Should().BeGreaterThan(1_000_000m, "the amounts were far beyond 2⁵³ units (900,000)");
        (await ledger.ReserveAsync(accounts, LargestLimit - spent, time.GetUtcNow().AddMinutes(1))).IsGranted.Should().BeTrue("what is left fits to the last unit");
        (await ledger.ReserveAsync(accounts, 0.0000000001m, time.GetUtcNow().AddMinutes(1))).IsGranted.Should().BeFalse("and not one unit more");
    }

    [RedisTheory]
    [InlineData("field")]
    [InlineData("type")]
    [InlineData("reservation")]
    public async Task A_damaged_record_fails_only_the_calls_that_touch_it_and_is_logged_and_counted(string damage)
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        var time = new FakeTimeProvider(Start);
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        using var damaged = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, DamagedInstrument);
        var logger = new FakeLogger<RedisBudgetLedger>();
        using var ledger = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "bad" }, time, logger, meters);
        BudgetAccount[] broken = [Account("tenant", 10m, "broken")];
        BudgetAccount[] healthy = [Account("tenant", 10m, "healthy")];
        var database = redis.GetDatabase();

        // The broken tenant has an open reservation that expires: every script's first step is to charge it.
        var orphan = await ledger.ReserveAsync(broken, 1m, Start.AddMinutes(1));
        await ledger.SettleAsync(await ledger.ReserveAsync(healthy, 1m, Start.AddMinutes(1)), 0.5m);
        var key = (await server.KeysAsync("{bad}:a:*broken*")).Single(k => !k.EndsWith(":s", StringComparison.Ordinal));
        switch (damage)
        {
            case "field":
                await database.HashSetAsync(key, "spent", "12e+24");
                break;
            case "type":
                await database.KeyDeleteAsync(key);
                await database.StringSetAsync(key, "not a hash");
                break;
            default:
                await database.HashSetAsync("{bad}:r:" + orphan.Id, "u", "-1.5");
                break;
        }

        time.Advance(TimeSpan.FromMinutes(2));
        for (int i = 0; i < 3; i++)
        {
            var call = await ledger.ReserveAsync(healthy, 1m, time.GetUtcNow().AddMinutes(1));
            call.IsGranted.Should().BeTrue("an account that does not touch the damaged record is unaffected");
            (await ledger.SettleAsync(call, 0.25m)).Applied.Should().BeTrue();
        }

        (await ledger.GetBalancesAsync()).Single(b => b.Key.ScopeValue == "healthy").Spent.Should().Be(1.25m);
        if (damage != "reservation")
        {
            await ledger.Awaiting(l => l.ReserveAsync(broken, 1m, time.GetUtcNow().AddMinutes(1)).AsTask())
                .Should().ThrowAsync<InvalidOperationException>().WithMessage("*damaged*broken*");
        }
        else
        {
            (await ledger.ReserveAsync(broken, 1m, time.GetUtcNow().AddMinutes(1))).IsGranted.Should().BeTrue("the account itself is sound");
            (await database.SortedSetScoreAsync("{bad}:quarantine", orphan.Id)).Should().NotBeNull("the damaged expired reservation is set aside, not retried by every script");
        }

        damaged.GetMeasurementSnapshot().Sum(m => m.Value).Should().BeGreaterThan(0, "damaged records are counted");
        logger.Collector.GetSnapshot().Should().Contain(r => r.Level == Microsoft.Extensions.Logging.LogLevel.Error && r.Message.Contains("damaged", StringComparison.Ordinal), "and logged");
    }
}

/// <summary>Lists a test server's keys.</summary>
internal static class RedisServerKeys
{
    public static async Task<List<string>> KeysAsync(this RedisServer server, string pattern)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        return [.. redis.GetServers().Single().Keys(pattern: pattern).Select(k => (string)k!)];
    }
}
