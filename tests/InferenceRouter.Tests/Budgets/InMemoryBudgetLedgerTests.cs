using Microsoft.Extensions.Time.Testing;

namespace InferenceRouter.Tests.Budgets;

public class InMemoryBudgetLedgerTests
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;
    private static readonly DateTimeOffset Later = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static BudgetAccount Account(string name, decimal limit, TimeSpan rolling = default) => new(new BudgetAccountKey(name, string.Empty, Epoch), limit, rolling);

    [Fact]
    public async Task Reserves_within_the_limit_and_denies_beyond_it_naming_the_account()
    {
        using var ledger = new InMemoryBudgetLedger();
        var first = await ledger.ReserveAsync([Account("a", 1m)], 0.6m, Later);
        var second = await ledger.ReserveAsync([Account("a", 1m)], 0.6m, Later);

        first.IsGranted.Should().BeTrue();
        second.IsGranted.Should().BeFalse();
        second.Denied!.Value.Reserved.Should().Be(0.6m);
        second.Denied.Value.Key.Limit.Should().Be("a");
    }

    [Fact]
    public async Task Multi_account_reservations_are_all_or_nothing()
    {
        using var ledger = new InMemoryBudgetLedger();
        (await ledger.ReserveAsync([Account("small", 0.5m)], 0.5m, Later)).IsGranted.Should().BeTrue();

        var denied = await ledger.ReserveAsync([Account("big", 10m), Account("small", 0.5m)], 0.1m, Later);

        denied.IsGranted.Should().BeFalse();
        denied.DeniedIndex.Should().Be(1);
        var balances = await ledger.GetBalancesAsync();
        balances.Single(b => b.Key.Limit == "big").Reserved.Should().Be(0m, "nothing is held when one account does not fit");
    }

    [Fact]
    public async Task A_zero_amount_always_fits_even_a_spent_account()
    {
        using var ledger = new InMemoryBudgetLedger();
        var full = await ledger.ReserveAsync([Account("a", 1m)], 1m, Later);
        await ledger.SettleAsync(full, 1.5m);

        (await ledger.ReserveAsync([Account("a", 1m)], 0m, Later)).IsGranted.Should().BeTrue();
        (await ledger.ReserveAsync([Account("a", 1m)], 0.0000000001m, Later)).IsGranted.Should().BeFalse();
    }

    [Fact]
    public async Task Settling_twice_or_after_a_release_charges_nothing_more()
    {
        using var ledger = new InMemoryBudgetLedger();
        var reservation = await ledger.ReserveAsync([Account("a", 1m)], 0.5m, Later);

        (await ledger.SettleAsync(reservation, 0.2m)).Applied.Should().BeTrue();
        (await ledger.SettleAsync(reservation, 0.2m)).Applied.Should().BeFalse();
        (await ledger.ReleaseAsync(reservation)).Should().BeFalse();

        var balance = (await ledger.GetBalancesAsync()).Single();
        balance.Spent.Should().Be(0.2m);
        balance.Reserved.Should().Be(0m);
        ledger.OutstandingReservations.Should().Be(0);
    }

    [Fact]
    public async Task Foreign_denied_or_negative_settlements_are_refused_clearly()
    {
        using var ledger = new InMemoryBudgetLedger();
        using var other = new InMemoryBudgetLedger();
        var foreign = await other.ReserveAsync([Account("a", 1m)], 0.5m, Later);
        var denied = await ledger.ReserveAsync([Account("a", 1m)], 2m, Later);
        var mine = await ledger.ReserveAsync([Account("a", 1m)], 0.5m, Later);

        await FluentActions.Awaiting(() => ledger.SettleAsync(foreign, 0.1m).AsTask()).Should().ThrowAsync<ArgumentException>().WithMessage("*not made by this ledger*");
        await FluentActions.Awaiting(() => ledger.ReleaseAsync(denied).AsTask()).Should().ThrowAsync<ArgumentException>().WithMessage("*denied reservation holds nothing*");
        await FluentActions.Awaiting(() => ledger.SettleAsync(mine, -1m).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => ledger.ReserveAsync([], 1m, Later).AsTask()).Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task Rolling_windows_forget_spend_once_it_leaves_the_window_never_before()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        using var ledger = new InMemoryBudgetLedger(timeProvider: time);
        var rolling = Account("rolling", 1m, TimeSpan.FromHours(1));
        await ledger.SettleAsync(await ledger.ReserveAsync([rolling], 1m, Later), 1m);

        time.Advance(TimeSpan.FromMinutes(59));
        (await ledger.ReserveAsync([rolling], 0.5m, Later)).IsGranted.Should().BeFalse("the spend is 59 minutes old, inside the hour");

        time.Advance(TimeSpan.FromMinutes(2));
        (await ledger.ReserveAsync([rolling], 0.5m, Later)).IsGranted.Should().BeTrue("the spend has left the window");
    }

    [Fact]
    public async Task Orphaned_reservations_expire_and_release_their_hold()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { ExpirySweepInterval = TimeSpan.FromSeconds(30) }, time);
        var orphan = await ledger.ReserveAsync([Account("a", 1m)], 0.9m, time.GetUtcNow() + TimeSpan.FromMinutes(1));

        time.Advance(TimeSpan.FromMinutes(2));
        (await ledger.ReserveAsync([Account("a", 1m)], 0.9m, Later)).IsGranted.Should().BeTrue("the sweep released the orphan first");

        ledger.ExpiredReservations.Should().Be(1);
        (await ledger.SettleAsync(orphan, 0.5m)).Applied.Should().BeFalse("an expired reservation cannot be charged");
    }

    [Fact]
    public async Task Spend_survives_a_restart_through_an_atomically_replaced_file()
    {
        var directory = Directory.CreateTempSubdirectory("ledger");
        var path = Path.Combine(directory.FullName, "spend.json");
        try
        {
            using (var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path }))
            {
                await ledger.SettleAsync(await ledger.ReserveAsync([Account("a", 10m), Account("b", 10m, TimeSpan.FromHours(24))], 2m, Later), 1.25m);
            }

            directory.GetFiles().Select(f => f.Name).Should().Equal("spend.json");
            using var restarted = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path });
            var balances = await restarted.GetBalancesAsync();
            balances.Should().HaveCount(2).And.OnlyContain(b => b.Spent == 1.25m && b.Reserved == 0m);
            (await restarted.ReserveAsync([Account("b", 10m, TimeSpan.FromHours(24))], 8.75m, Later)).IsGranted.Should().BeTrue();
            (await restarted.ReserveAsync([Account("b", 10m, TimeSpan.FromHours(24))], 0.01m, Later)).IsGranted.Should().BeFalse("rolling spend was restored too");

            File.WriteAllText(path, "{ not json");
            FluentActions.Invoking(() => new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path }))
                .Should().Throw<InvalidDataException>().WithMessage($"*{path}*delete it*");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Concurrent_reservations_never_push_an_account_over_its_limit_and_lose_no_update()
    {
        using var ledger = new InMemoryBudgetLedger();
        var invariant = LedgerInvariant.Watch(ledger);

        var global = Account("global", 5m);
        var tenants = Enumerable.Range(0, 4).Select(i => new BudgetAccount(new BudgetAccountKey("tenant", "t" + i, Epoch), 1.5m, default)).ToArray();
        decimal settled = 0m;
        int granted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var random = new Random(i);
            decimal amount = random.Next(1, 1000) / 100_000m;
            var reservation = await ledger.ReserveAsync([global, tenants[i % 4]], amount, Later);
            if (!reservation.IsGranted)
            {
                return;
            }

            Interlocked.Increment(ref granted);
            await Task.Yield();
            if (random.Next(5) == 0)
            {
                await ledger.ReleaseAsync(reservation);
                return;
            }

            decimal cost = amount * random.Next(0, 101) / 100m;
            await ledger.SettleAsync(reservation, cost);
            lock (tenants)
            {
                settled += cost;
            }
        });

        invariant.Violations.Should().Be(0);
        granted.Should().BeGreaterThan(100);
        var balances = await ledger.GetBalancesAsync();
        balances.Should().OnlyContain(b => b.Reserved == 0m);
        balances.Single(b => b.Key.Limit == "global").Spent.Should().Be(settled);
        balances.Where(b => b.Key.Limit == "tenant").Sum(b => b.Spent).Should().Be(settled);
    }
}
