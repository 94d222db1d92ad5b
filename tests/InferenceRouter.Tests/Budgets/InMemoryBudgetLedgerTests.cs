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
    public async Task An_orphaned_reservation_is_charged_what_it_holds_when_it_expires_never_dropped()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { ExpirySweepInterval = TimeSpan.FromSeconds(30) }, time);
        await ledger.ReserveAsync([Account("a", 1m)], 0.9m, time.GetUtcNow() + TimeSpan.FromMinutes(1));

        time.Advance(TimeSpan.FromMinutes(2));
        (await ledger.ReserveAsync([Account("a", 1m)], 0.2m, Later)).IsGranted.Should().BeFalse("the orphan's 0.9 is now spent, not forgotten");

        ledger.ExpiredReservations.Should().Be(1);
        ledger.OutstandingReservations.Should().Be(0);
        (await ledger.GetBalancesAsync()).Single().Should().Match<BudgetAccountBalance>(b => b.Spent == 0.9m && b.Reserved == 0m);
    }

    [Theory]
    [InlineData(0.5, false)]
    [InlineData(0.95, false)]
    [InlineData(0.0, true)]
    public async Task A_call_that_outlives_its_reservation_is_charged_its_real_cost_exactly_once(double cost, bool release)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { ExpirySweepInterval = TimeSpan.FromSeconds(30) }, time);
        foreach (var rolling in new[] { TimeSpan.Zero, TimeSpan.FromHours(1) })
        {
            var account = Account("long-" + rolling.TotalHours, 1m, rolling);
            var longCall = await ledger.ReserveAsync([account], 0.9m, time.GetUtcNow() + TimeSpan.FromMinutes(10));
            time.Advance(TimeSpan.FromMinutes(11));
            await ledger.ReserveAsync([Account("other", 1m)], 0m, Later); // the sweep runs: the long call's 0.9 is charged

            if (release)
            {
                (await ledger.ReleaseAsync(longCall)).Should().BeTrue("the call failed before producing anything: expiry's charge is refunded");
            }
            else
            {
                var settlement = await ledger.SettleAsync(longCall, (decimal)cost);
                settlement.Applied.Should().BeTrue();
                settlement.Late.Should().BeTrue();
            }

            (await ledger.SettleAsync(longCall, 0.3m)).Applied.Should().BeFalse("a reservation finishes once");
            (await ledger.ReleaseAsync(longCall)).Should().BeFalse();
            (await ledger.GetBalancesAsync()).Single(b => b.Key.Limit == account.Key.Limit).Should().Match<BudgetAccountBalance>(b => b.Spent == (decimal)cost && b.Reserved == 0m);
        }
    }

    [Fact]
    public async Task Closed_calendar_windows_are_compacted_into_totals_and_memory_stays_bounded()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        using var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { ExpirySweepInterval = TimeSpan.FromMinutes(1) }, time);
        var options = new BudgetOptions();
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.User, Window = BudgetWindow.Day, Amount = 1m });
        using var budget = new BudgetManager(options, ledger, timeProvider: time);
        var target = budget.GetTarget("gpt-4.1-mini");

        for (int day = 0; day < 5; day++)
        {
            for (int user = 0; user < 4_000; user++)
            {
                var attempt = await budget.ReserveAsync("acme", $"user-{user}", target, 10, default, null, null, [], new ChatOptions { MaxOutputTokens = 10 }, default);
                await attempt.SettleAsync(new UsageDetails { InputTokenCount = 10, OutputTokenCount = 10 }, null);
            }

            time.Advance(TimeSpan.FromDays(1));
        }

        await budget.ReserveAsync("acme", "late", target, 10, default, null, null, [], new ChatOptions { MaxOutputTokens = 10 }, default); // a sweep on day 6 compacts day 5
        ledger.AccountCount.Should().BeLessThanOrEqualTo(4_001, "only the current window's accounts are kept");
        var report = await budget.GetReportAsync();
        report.ClosedWindows.Should().HaveCount(5);
        report.ClosedWindows.Should().AllSatisfy(w => w.Accounts.Should().Be(4_000));
        report.ClosedWindows.Sum(w => w.Spent).Should().Be(report.TotalCost);
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

            directory.GetFiles().Select(f => f.Name).Should().BeEquivalentTo(["spend.json", "spend.json.lock"], "no temporary file is left; the lock file stays (deleting it would let two ledgers hold the file)");
            using (var restarted = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path }))
            {
                var balances = await restarted.GetBalancesAsync();
                balances.Should().HaveCount(2).And.OnlyContain(b => b.Spent == 1.25m && b.Reserved == 0m);
                (await restarted.ReserveAsync([Account("b", 10m, TimeSpan.FromHours(24))], 8.75m, Later)).IsGranted.Should().BeTrue();
                (await restarted.ReserveAsync([Account("b", 10m, TimeSpan.FromHours(24))], 0.01m, Later)).IsGranted.Should().BeFalse("rolling spend was restored too");
            }

            // The restarted ledger is disposed first: the file is locked while a ledger uses it.
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
    public Task A_file_in_use_by_one_ledger_is_refused_to_a_second_so_neither_overwrites_the_others_spend() => InTemporaryDirectoryAsync(async directory =>
    {
        var path = Path.Combine(directory, "spend.json");
        using (var running = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path }))
        {
            await running.SettleAsync(await running.ReserveAsync([Account("a", 10m)], 1m, Later), 1m);

            // A rolling deploy: the new instance starts while the old one still runs; each would write its own spend over the other's.
            FluentActions.Invoking(() => new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path }))
                .Should().Throw<InvalidOperationException>().WithMessage($"*{path}*own PersistencePath*");
            await running.SettleAsync(await running.ReserveAsync([Account("a", 10m)], 2m, Later), 2m);
        }

        using var next = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path });
        (await next.GetBalancesAsync()).Should().ContainSingle().Which.Spent.Should().Be(3m, "the file is free once its ledger is disposed, with all its spend");
    });

    [Fact]
    public async Task Limits_up_to_the_largest_accepted_are_exact_to_the_unit_and_a_larger_one_is_refused_at_start()
    {
        var options = new BudgetOptions();
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Amount = 500_000_000m });

        // Above the largest limit, spent + reserved + a reservation could overflow the ledger's integer units: refused, with the key.
        FluentActions.Invoking(() => new BudgetManager(options)).Should().Throw<ArgumentException>().WithMessage("*Budgets:Limits:0:Amount is 500000000*at most 100000000*");

        using var ledger = new InMemoryBudgetLedger();
        BudgetAccount[] largest = [Account("largest", BudgetUnits.MaxAmount)];
        var almost = await ledger.ReserveAsync(largest, BudgetUnits.MaxAmount - 0.0000000001m, Later);
        almost.IsGranted.Should().BeTrue();
        (await ledger.ReserveAsync(largest, 0.0000000001m, Later)).IsGranted.Should().BeTrue("the last unit fits");
        (await ledger.ReserveAsync(largest, 0.0000000001m, Later)).IsGranted.Should().BeFalse("and not one more");
        (await ledger.ReserveAsync(largest, BudgetUnits.MaxAmount, Later)).IsGranted.Should().BeFalse("a huge reservation on a full account never wraps around");
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

    private static async Task InTemporaryDirectoryAsync(Func<string, Task> test)
    {
        var directory = Directory.CreateTempSubdirectory("ledger");
        try
        {
            await test(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
