using System.Diagnostics.Metrics;
using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary>
/// Failing open keeps every step in a journal until Redis has it: a ledger that ends while Redis is away leaves its reservations,
/// settlements and releases to the next ledger on the same file, which sends them once; an unsettled one is charged at its expiry in
/// Redis, as an online reservation would be.
/// </summary>
public sealed class FailOpenJournalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fail-open-").FullName;

    private string JournalPath => Path.Combine(_directory, "instance-1", "fail-open.journal");

    private static BudgetAccount Tenant(decimal limit) => new(new BudgetAccountKey("tenant", "acme", DateTimeOffset.UnixEpoch), limit, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    private RedisBudgetLedger Ledger(IConnectionMultiplexer redis) =>
        new(redis, new RedisBudgetLedgerOptions { KeyPrefix = "journal", FailOpenCap = 1m, FailOpenJournalPath = JournalPath, OperationTimeout = TimeSpan.FromMilliseconds(300) }, _time);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [RedisFact]
    public async Task What_a_ledger_did_while_redis_was_away_is_sent_once_by_the_next_ledger_on_its_journal()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        BudgetAccount[] accounts = [Tenant(10m)];
        var expires = _time.GetUtcNow().AddMinutes(5);

        server.Kill();
        using (var first = Ledger(redis))
        {
            var settled = await first.ReserveAsync(accounts, 0.3m, expires);
            var released = await first.ReserveAsync(accounts, 0.2m, expires);
            var open = await first.ReserveAsync(accounts, 0.25m, expires);
            new[] { settled, released, open }.Should().OnlyContain(r => r.IsGranted, "fail open admits up to the 1.00 cap");
            (await first.SettleAsync(settled, 0.1m)).Applied.Should().BeTrue();
            (await first.ReleaseAsync(released)).Should().BeTrue();
            first.PendingOfflineCharges.Should().Be(5);
        }

        // The first ledger is gone (as after a crash) and left its reservation 'open' unfinished.
        File.ReadAllLines(JournalPath).Should().HaveCount(5, "every step was journaled before its call went on");
        await server.RestartAsync();
        using var next = Ledger(redis);
        await SendAllAsync(next);

        new FileInfo(JournalPath).Length.Should().Be(0, "Redis has everything, so the journal is emptied");
        var tenant = (await next.GetBalancesAsync()).Single();
        tenant.Spent.Should().Be(0.1m, "the settled reservation is charged its cost; the released one nothing");
        tenant.Reserved.Should().Be(0.25m, "the unfinished reservation holds its amount in Redis until its expiry");

        _time.Advance(TimeSpan.FromMinutes(6));
        tenant = (await next.GetBalancesAsync()).Single();
        tenant.Should().Be(new BudgetAccountBalance(accounts[0].Key, 10m, 0.35m, 0m), "at its expiry Redis charged what it held, as for any reservation whose caller died");

        (await next.ChargeOfflineSpendAsync()).Should().Be(0, "nothing is left to send");
    }

    [RedisFact]
    public async Task Records_sent_twice_apply_once_and_a_line_cut_short_by_a_crash_is_skipped()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        BudgetAccount[] accounts = [Tenant(10m)];

        server.Kill();
        using (var first = Ledger(redis))
        {
            var reservation = await first.ReserveAsync(accounts, 0.5m, _time.GetUtcNow().AddMinutes(5));
            (await first.SettleAsync(reservation, 0.4m)).Applied.Should().BeTrue();
        }

        var lines = File.ReadAllLines(JournalPath);
        File.WriteAllText(JournalPath, string.Join('\n', lines.Concat(lines)) + "\n" + lines[0][..20]);
        await server.RestartAsync();
        using var next = Ledger(redis);
        await SendAllAsync(next);

        (await next.GetBalancesAsync()).Single().Should().Be(new BudgetAccountBalance(accounts[0].Key, 10m, 0.4m, 0m), "each step applies once however often it is sent");
    }

    [RedisFact]
    public async Task Bad_records_are_set_aside_logged_and_counted_and_the_rest_reaches_redis_without_unobserved_exceptions()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        BudgetAccount[] accounts = [Tenant(10m)];
        // The event is process-wide and other tests run alongside: only exceptions raised by the ledger's own code count here.
        var unobserved = new System.Collections.Concurrent.ConcurrentQueue<string>();
        EventHandler<UnobservedTaskExceptionEventArgs> count = (_, e) =>
        {
            if (e.Exception.ToString() is var text && (text.Contains("InferenceRouter.FailOpen", StringComparison.Ordinal) || text.Contains("InferenceRouter.RedisAccountingLedger", StringComparison.Ordinal) || text.Contains("InferenceRouter.RedisBudgetLedger", StringComparison.Ordinal)))
            {
                unobserved.Enqueue(text);
            }
        };
        TaskScheduler.UnobservedTaskException += count;
        try
        {
            server.Kill();
            using (var first = Ledger(redis))
            {
                await first.SettleAsync(await first.ReserveAsync(accounts, 0.3m, _time.GetUtcNow().AddMinutes(5)), 0.25m);
            }

            // What a crash, a hand edit or another version may leave: every kind of bad line, between and after good ones.
            var good = File.ReadAllLines(JournalPath);
            string expires = _time.GetUtcNow().AddMinutes(5).ToString("O");
            int from = good[0].IndexOf("\"accounts\":", StringComparison.Ordinal) + 11;
            string goodAccounts = good[0][from..good[0].IndexOf(",\"amount\"", StringComparison.Ordinal)];
            string[] bad =
            [
                "{ not json",
                $$"""{"id":"offline-missing-accounts","amount":0.4,"expiresAt":"{{expires}}","cost":0.4}""",
                $$"""{"id":5,"accounts":[],"amount":0.4,"expiresAt":"{{expires}}"}""",
                $$"""{"id":"offline-wrong-type","accounts":[{"key":{"limit":"tenant","scopeValue":"acme","windowStart":"1970-01-01T00:00:00+00:00"},"limit":"ten","rollingPeriod":"00:00:00"}],"amount":0.4,"expiresAt":"{{expires}}"}""",
                $$"""{"id":"offline-empty-account","accounts":[{}],"amount":0.4,"expiresAt":"{{expires}}"}""",
                $$"""{"id":"offline-negative","accounts":{{goodAccounts}},"amount":-0.4,"expiresAt":"{{expires}}"}""",
                "null",
            ];
            File.WriteAllLines(JournalPath, [bad[0], good[0], .. bad[1..], good[1]]);
            await server.RestartAsync();

            var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
            using var rejected = new MetricCollector<long>(meters, InferenceRouterTelemetry.MeterName, "inference_router.budget.fail_open_rejected");
            var logger = new FakeLogger<RedisBudgetLedger>();
            using var next = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "journal", FailOpenCap = 1m, FailOpenJournalPath = JournalPath, OperationTimeout = TimeSpan.FromMilliseconds(300) }, _time, logger, meters);
            await SendAllAsync(next);

            (await next.GetBalancesAsync()).Single().Should().Be(new BudgetAccountBalance(accounts[0].Key, 10m, 0.25m, 0m), "the good records reached Redis, each once; none of the bad ones did");
            File.ReadAllLines(JournalPath + ".rejected").Should().Equal(bad, "each bad line is kept, as it was, beside the journal");
            rejected.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(bad.Length);
            logger.Collector.GetSnapshot().Count(r => r.Message.Contains("set aside", StringComparison.Ordinal)).Should().BeGreaterThanOrEqualTo(bad.Length);
            new FileInfo(JournalPath).Length.Should().Be(0, "Redis has everything that could be sent");
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TaskScheduler.UnobservedTaskException -= count;
        }

        unobserved.Should().BeEmpty("no send or retry of the ledger left an exception nobody observed");
    }

    [Fact]
    public void A_journal_is_locked_while_a_ledger_uses_it()
    {
        using var redis = ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");
        using var first = Ledger(redis);

        var second = () => Ledger(redis);

        second.Should().Throw<InvalidOperationException>().WithMessage($"*{JournalPath}*own FailOpenJournalPath*");
    }

    [Fact]
    public void A_journal_without_a_cap_is_refused_naming_both_settings()
    {
        var options = new RedisBudgetLedgerOptions { KeyPrefix = "journal", FailOpenJournalPath = "fail-open.journal" };

        options.GetValidationErrors().Should().ContainSingle().Which.Should().Contain("FailOpenJournalPath").And.Contain("set FailOpenCap");
        new RedisBudgetLedgerOptions { KeyPrefix = "journal", FailOpenCap = 1m, FailOpenJournalPath = "/var/lib/app/" }.GetValidationErrors().Should().ContainSingle().Which.Should().Contain("not a file path");
    }

    [RedisFact]
    public async Task A_journal_replayed_after_its_reservations_retention_is_still_charged_exactly_and_holds_nothing()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        BudgetAccount[] accounts = [Tenant(10m)];
        RedisBudgetLedger Short() => new(redis, new RedisBudgetLedgerOptions { KeyPrefix = "late", FailOpenCap = 5m, FailOpenJournalPath = JournalPath, OperationTimeout = TimeSpan.FromMilliseconds(300), Retention = TimeSpan.FromSeconds(2) }, _time);

        server.Kill();
        using (var first = Short())
        {
            var reservation = await first.ReserveAsync(accounts, 2m, _time.GetUtcNow().AddSeconds(1));
            (await first.SettleAsync(reservation, 1.25m)).Applied.Should().BeTrue();
        }

        _time.Advance(TimeSpan.FromSeconds(30)); // replayed long after the reservation's expiry + retention
        await server.RestartAsync();
        using var next = Short();
        await SendAllAsync(next);

        var tenant = (await next.GetBalancesAsync()).Single();
        tenant.Spent.Should().Be(1.25m, "what was settled offline is charged");
        tenant.Reserved.Should().Be(0m, "nothing stays held by a reservation record that expired before it could be settled");
    }

    private static Task SendAllAsync(RedisBudgetLedger ledger) => Eventually.TrueAsync(async () =>
    {
        try
        {
            await ledger.ChargeOfflineSpendAsync();
        }
        catch (BudgetLedgerUnavailableException)
        {
        }

        return ledger.PendingOfflineCharges == 0;
    }, "the journal reached Redis");
}
