using System.Diagnostics.Metrics;
using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary>The Redis ledger against a real redis-server: the in-memory ledger's contract, held across separate connections.</summary>
public class RedisBudgetLedgerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static BudgetAccount Account(string limit, decimal amount, string scope = "", TimeSpan rolling = default) =>
        new(new BudgetAccountKey(limit, scope, DateTimeOffset.UnixEpoch), amount, rolling);

    private static async Task<decimal> SpentAsync(IBudgetLedger ledger, string limit) =>
        (await ledger.GetBalancesAsync()).Single(b => b.Key.Limit == limit).Spent;

    [RedisFact]
    public async Task A_reservation_holds_in_every_account_or_none_and_settling_replaces_it_by_the_real_cost_once()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        var ledger = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "test" });
        BudgetAccount[] accounts = [Account("global", 10m), Account("tenant", 1m, "acme")];

        var first = await ledger.ReserveAsync(accounts, 0.75m, DateTimeOffset.UtcNow.AddMinutes(5));
        var second = await ledger.ReserveAsync(accounts, 0.5m, DateTimeOffset.UtcNow.AddMinutes(5));

        first.IsGranted.Should().BeTrue();
        second.IsGranted.Should().BeFalse("the tenant's 1.00 cannot hold 0.75 + 0.50");
        second.DeniedIndex.Should().Be(1);
        second.Denied!.Value.Should().Be(new BudgetAccountBalance(accounts[1].Key, 1m, 0m, 0.75m));
        (await ledger.GetBalancesAsync()).Single(b => b.Key.Limit == "global").Reserved.Should().Be(0.75m, "a denied reservation holds nothing anywhere");

        var settled = await ledger.SettleAsync(first, 0.2m);
        settled.Applied.Should().BeTrue();
        settled.Late.Should().BeFalse();
        settled.Balances.Should().Equal(new BudgetAccountBalance(accounts[0].Key, 10m, 0.2m, 0m), new BudgetAccountBalance(accounts[1].Key, 1m, 0.2m, 0m));
        (await ledger.SettleAsync(first, 0.2m)).Applied.Should().BeFalse("settling twice changes nothing");
        (await ledger.ReleaseAsync(first)).Should().BeFalse();
        (await SpentAsync(ledger, "tenant")).Should().Be(0.2m);

        var third = await ledger.ReserveAsync(accounts, 0.8m, DateTimeOffset.UtcNow.AddMinutes(5));
        third.IsGranted.Should().BeTrue("0.2 spent + 0.8 fits 1.00 exactly");
        (await ledger.ReleaseAsync(third)).Should().BeTrue();
        (await ledger.GetBalancesAsync()).Should().OnlyContain(b => b.Reserved == 0);
        (await ledger.ReserveAsync(accounts, 0m, DateTimeOffset.UtcNow.AddMinutes(5))).IsGranted.Should().BeTrue("zero always fits");
    }

    [RedisFact]
    public async Task An_expired_reservation_is_charged_by_any_instance_and_a_late_settlement_or_release_trues_it_up()
    {
        await using var server = await RedisServer.StartAsync();
        using var crashed = await server.ConnectAsync();
        using var survivor = await server.ConnectAsync();
        var time = new FakeTimeProvider(Start);
        var dead = new RedisBudgetLedger(crashed, new RedisBudgetLedgerOptions { KeyPrefix = "test" }, timeProvider: time);
        var alive = new RedisBudgetLedger(survivor, new RedisBudgetLedgerOptions { KeyPrefix = "test" }, timeProvider: time);
        BudgetAccount[] accounts = [Account("day", 5m)];

        var orphan = await dead.ReserveAsync(accounts, 1m, Start.AddMinutes(1));
        var slow = await dead.ReserveAsync(accounts, 2m, Start.AddMinutes(1));
        var refunded = await dead.ReserveAsync(accounts, 0.5m, Start.AddMinutes(1));
        time.Advance(TimeSpan.FromMinutes(2));

        (await alive.ChargeExpiredAsync()).Should().Be(3, "the instance that reserved them is gone; another charges them");
        var charged = (await alive.GetBalancesAsync()).Single();
        charged.Spent.Should().Be(3.5m, "an expired reservation is charged what it held, never dropped");
        charged.Reserved.Should().Be(0m);

        var late = await alive.SettleAsync(slow, 0.25m);
        late.Applied.Should().BeTrue();
        late.Late.Should().BeTrue();
        (await alive.ReleaseAsync(refunded)).Should().BeTrue("the call produced nothing after all: the charge is refunded");
        (await alive.SettleAsync(slow, 0.25m)).Applied.Should().BeFalse();
        (await SpentAsync(alive, "day")).Should().Be(1.25m, "orphan 1.00 as charged + slow's real 0.25 + nothing for the refunded one");
    }

    [RedisFact]
    public async Task A_rolling_window_forgets_spend_older_than_its_period()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        var time = new FakeTimeProvider(Start);
        var ledger = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "test" }, timeProvider: time);
        BudgetAccount[] hourly = [Account("hourly", 1m, rolling: TimeSpan.FromHours(1))];

        await ledger.SettleAsync(await ledger.ReserveAsync(hourly, 0.6m, Start.AddMinutes(5)), 0.6m);
        time.Advance(TimeSpan.FromMinutes(30));
        (await ledger.ReserveAsync(hourly, 0.6m, time.GetUtcNow().AddMinutes(5))).IsGranted.Should().BeFalse("0.6 was spent within the hour");

        time.Advance(TimeSpan.FromMinutes(31));
        var later = await ledger.ReserveAsync(hourly, 0.6m, time.GetUtcNow().AddMinutes(5));
        later.IsGranted.Should().BeTrue("the spend is now more than an hour old");
        (await ledger.GetBalancesAsync()).Single().Spent.Should().Be(0m);
    }

    [RedisFact]
    public async Task Four_instances_sharing_one_budget_never_overspend_it_and_spend_equals_what_was_settled()
    {
        await using var server = await RedisServer.StartAsync();
        const decimal Limit = 25m;
        var connections = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => server.ConnectAsync()));
        // A generous timeout: this test is about exactness under contention, not about a slow Redis on a starved test machine.
        var ledgers = connections.Select(c => new RedisBudgetLedger(c, new RedisBudgetLedgerOptions { KeyPrefix = "test", OperationTimeout = TimeSpan.FromSeconds(10) })).ToArray();
        BudgetAccount[] accounts = [Account("global", 1_000m), Account("tenant", Limit, "shared")];
        long settledUnits = 0;
        int granted = 0, denied = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 2_000), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var random = new Random(i);
            var ledger = ledgers[i % ledgers.Length];
            decimal reserve = Math.Round((decimal)random.NextDouble() * 0.2m, 4) + 0.0001m;
            var reservation = await ledger.ReserveAsync(accounts, reserve, DateTimeOffset.UtcNow.AddMinutes(5));
            if (!reservation.IsGranted)
            {
                Interlocked.Increment(ref denied);
                return;
            }

            Interlocked.Increment(ref granted);
            if (random.Next(5) == 0)
            {
                await ledger.ReleaseAsync(reservation);   // cancelled before the provider billed anything
                return;
            }

            decimal cost = Math.Round(reserve * (decimal)random.NextDouble(), 6);
            if ((await ledger.SettleAsync(reservation, cost)).Applied)
            {
                Interlocked.Add(ref settledUnits, (long)(cost * 1_000_000m));
            }
        });

        var tenant = (await ledgers[0].GetBalancesAsync()).Single(b => b.Key.Limit == "tenant");
        tenant.Reserved.Should().Be(0m);
        tenant.Spent.Should().Be(settledUnits / 1_000_000m, "spend is exactly the sum of settled costs");
        tenant.Spent.Should().BeLessThanOrEqualTo(Limit);
        denied.Should().BeGreaterThan(0, "the budget ran out, so the limit was tested");
        granted.Should().BeGreaterThan(100);
        foreach (var connection in connections)
        {
            connection.Dispose();
        }
    }

    [RedisFact]
    public async Task When_redis_is_down_operations_fail_closed_within_the_timeout_and_nothing_is_lost_across_a_restart()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        var ledger = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "test", OperationTimeout = TimeSpan.FromMilliseconds(500) });
        BudgetAccount[] accounts = [Account("month", 10m)];
        var open = await ledger.ReserveAsync(accounts, 1m, DateTimeOffset.UtcNow.AddMinutes(10));
        await ledger.SettleAsync(await ledger.ReserveAsync(accounts, 2m, DateTimeOffset.UtcNow.AddMinutes(10)), 1.5m);

        server.Kill();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ledger.Awaiting(l => l.ReserveAsync(accounts, 1m, DateTimeOffset.UtcNow.AddMinutes(10)).AsTask())
            .Should().ThrowAsync<BudgetLedgerUnavailableException>().WithMessage("*refused rather than left unbudgeted*");
        System.Diagnostics.Stopwatch.GetElapsedTime(started).Should().BeLessThan(TimeSpan.FromSeconds(10), "bounded by the operation timeout, not hanging");

        await server.RestartAsync();
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await ledger.GetBalancesAsync()).Single() is { Spent: 1.5m, Reserved: 1m };
            }
            catch (BudgetLedgerUnavailableException)
            {
                return false;
            }
        }, "the restarted server serves what it had, and the reserve refused while it was down holds nothing (it was released by id)");
        (await ledger.SettleAsync(open, 0.5m)).Applied.Should().BeTrue("the open reservation survived the restart (AOF)");
        (await SpentAsync(ledger, "month")).Should().Be(2m);
    }

    [RedisFact]
    public async Task Failing_open_admits_spend_up_to_the_cap_while_redis_is_down_and_charges_it_once_when_it_is_back()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        using var unavailable = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.LedgerUnavailableInstrument);
        using var failedOpen = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.FailOpenReservationsInstrument);
        using var sent = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.FailOpenSentInstrument);
        using var ledger = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "test", FailOpenCap = 1m, OperationTimeout = TimeSpan.FromMilliseconds(300) }, meterFactory: meters);
        BudgetAccount[] accounts = [Account("tenant", 10m, "acme")];
        await ledger.SettleAsync(await ledger.ReserveAsync(accounts, 2m, DateTimeOffset.UtcNow.AddMinutes(5)), 1.5m);
        var madeOnline = await ledger.ReserveAsync(accounts, 1m, DateTimeOffset.UtcNow.AddMinutes(5));

        server.Kill();
        (await ledger.SettleAsync(madeOnline, 0.3m)).Applied.Should().BeTrue("a settlement Redis cannot take now is journaled for it");
        var offline = await ledger.ReserveAsync(accounts, 0.6m, DateTimeOffset.UtcNow.AddMinutes(5));
        offline.IsGranted.Should().BeTrue("fail open: the local ledger admits up to the cap");
        (await ledger.ReserveAsync(accounts, 0.6m, DateTimeOffset.UtcNow.AddMinutes(5))).IsGranted.Should().BeFalse("0.6 + 0.6 is over the 1.00 cap, whatever the shared limit");
        (await ledger.SettleAsync(offline, 0.5m)).Applied.Should().BeTrue();
        (await ledger.SettleAsync(offline, 0.5m)).Applied.Should().BeFalse("settling twice changes nothing, offline too");
        var released = await ledger.ReserveAsync(accounts, 0.4m, DateTimeOffset.UtcNow.AddMinutes(5));
        released.IsGranted.Should().BeTrue();
        (await ledger.ReleaseAsync(released)).Should().BeTrue();
        ledger.PendingOfflineCharges.Should().Be(5, "two reservations, two settlements and a release wait for Redis");
        failedOpen.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(2, "two reservations were admitted locally (the third was over the cap)");
        unavailable.GetMeasurementSnapshot().Sum(m => m.Value).Should().BeGreaterThanOrEqualTo(4, "the settle and each reserve first waited for Redis in vain");

        await server.RestartAsync();
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await ledger.ChargeOfflineSpendAsync();
            }
            catch (BudgetLedgerUnavailableException)
            {
            }

            return ledger.PendingOfflineCharges == 0;
        }, "the offline settlement reached Redis");
        await ledger.ChargeOfflineSpendAsync();
        (await SpentAsync(ledger, "tenant")).Should().Be(2.3m, "1.50 settled online + 0.30 settled while down (not the 1.00 it held) + 0.50 settled offline, each charged once; the release charged nothing");
        (await ledger.GetBalancesAsync()).Should().OnlyContain(b => b.Reserved == 0, "the offline reservations reached Redis already finished");
        sent.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(5, "each step was sent once");
        (await ledger.ReserveAsync(accounts, 1m, DateTimeOffset.UtcNow.AddMinutes(5))).IsGranted.Should().BeTrue("back online, the shared limit applies again");
    }
}
