using InferenceRouter.TestServer;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary>
/// Three OS processes (tests/InferenceRouter.RedisWorker) share one tenant budget through Redis: concurrent calls with random output
/// sizes, streaming and cancellations; one process killed with SIGKILL mid-run, or Redis itself restarted mid-run. After every run the
/// ledger is reconciled against Redis: nothing reserved, spend within the limit and exactly the sum of settled costs plus the charges of
/// reservations that expired (the killed process's).
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public class ScaleOutTests(ITestOutputHelper output)
{
    private const decimal Limit = 6m;
    private const int ReservationMs = 2_000;
    private const decimal FailOpenCap = 0.05m;

    [RedisFact]
    public async Task Three_processes_never_overspend_one_budget_and_a_killed_one_loses_no_spend()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = "scale-" + Guid.NewGuid().ToString("N")[..8];
        var workers = Enumerable.Range(1, 3).Select(i => Worker.Start(server, prefix, calls: 3_400, seed: i)).ToList();

        await workers[1].ProgressAsync(1_000);
        workers[1].Kill();
        var summaries = await Task.WhenAll(workers[0].DoneAsync(), workers[2].DoneAsync());

        summaries.Should().OnlyContain(s => s.Contains("rejected=") && !s.Contains("rejected=0 "), "the budget ran out, so the limit was tested: {0}", string.Join(" | ", summaries));
        await ReconcileAsync(server, prefix);
    }

    [RedisFact]
    public async Task Redis_restarted_mid_run_fails_calls_closed_and_the_totals_still_reconcile()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = "restart-" + Guid.NewGuid().ToString("N")[..8];
        var workers = Enumerable.Range(1, 3).Select(i => Worker.Start(server, prefix, calls: 2_500, seed: 10 + i)).ToList();

        await workers[0].ProgressAsync(300);
        server.Kill();
        await Task.Delay(1_000);
        await server.RestartAsync();
        var summaries = await Task.WhenAll(workers.Select(w => w.DoneAsync()));

        summaries.Should().Contain(s => !s.Contains("unavailable=0"), "calls made while Redis was down were refused: {0}", string.Join(" | ", summaries));
        await ReconcileAsync(server, prefix);
    }

    [RedisFact]
    public async Task Failing_open_while_redis_is_down_a_process_killed_then_loses_nothing_its_journal_is_sent_when_it_restarts()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = "open-" + Guid.NewGuid().ToString("N")[..8];
        var journals = Directory.CreateTempSubdirectory("journals-").FullName;
        var workers = Enumerable.Range(1, 3).Select(i => Worker.Start(server, prefix, calls: 2_500, seed: 20 + i, Path.Combine(journals, $"{i}.journal"))).ToList();
        string killedJournal = Path.Combine(journals, "2.journal");

        await workers[0].ProgressAsync(300);
        server.Kill();
        await Eventually.TrueAsync(() => File.Exists(killedJournal) && new FileInfo(killedJournal).Length > 2_000, "the second process failed open and journaled its steps", 60);
        workers[1].Kill();
        var left = File.ReadAllLines(killedJournal).Select(line => Regex.Match(line, "\"id\":\"(offline-[0-9a-f]{32})\"")).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        await server.RestartAsync();
        var summaries = await Task.WhenAll(workers[0].DoneAsync(), workers[2].DoneAsync());

        output.WriteLine(string.Join(Environment.NewLine, summaries.Append($"killed process left {left.Count} fail-open reservations in its journal")));
        summaries.Should().OnlyContain(s => s.EndsWith(" offline=0", StringComparison.Ordinal), "the surviving processes sent their fail-open steps: {0}", string.Join(" | ", summaries));
        using var redis = await server.ConnectAsync();
        using (var restarted = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = prefix, FailOpenCap = FailOpenCap, FailOpenJournalPath = killedJournal }))
        {
            await Eventually.TrueAsync(async () => await restarted.ChargeOfflineSpendAsync() >= 0 && restarted.PendingOfflineCharges == 0, "the killed process's journal reached Redis");
        }

        left.Should().NotBeEmpty();
        await ReconcileAsync(server, prefix, allowance: 3 * FailOpenCap);
        var database = redis.GetDatabase();
        foreach (var id in left)
        {
            ((string?)await database.HashGetAsync("{" + prefix + "}:r:" + id, "s")).Should().BeOneOf(["d", "x", "r"], "reservation {0} made by the killed process while Redis was down was settled, charged at expiry or released in Redis", id);
        }

        Directory.Delete(journals, recursive: true);
    }

    /// <summary>Waits out the reservations' lifetime, charges the expired ones, then checks the account against every reservation in Redis.</summary>
    /// <param name="allowance">What failing open may spend beyond the limit (each process's cap).</param>
    private async Task ReconcileAsync(RedisServer server, string prefix, decimal allowance = 0m)
    {
        await Task.Delay(ReservationMs + 500);
        using var redis = await server.ConnectAsync();
        await new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = prefix }).ChargeExpiredAsync();
        var database = redis.GetDatabase();
        var keys = redis.GetServers().Single().Keys(pattern: "{" + prefix + "}:*").Select(k => (string)k!).ToList();

        long settled = 0, expired = 0;
        int open = 0;
        foreach (var key in keys.Where(k => k.Contains(":r:", StringComparison.Ordinal)))
        {
            var fields = (await database.HashGetAllAsync(key)).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
            switch (fields["s"])
            {
                case "d": settled += long.Parse(fields["k"], CultureInfo.InvariantCulture); break;
                case "x": expired += long.Parse(fields["u"], CultureInfo.InvariantCulture); break;
                case "o": open++; break;
            }
        }

        var tenant = keys.Single(k => k.Contains(":a:", StringComparison.Ordinal) && k.Contains("tenant", StringComparison.OrdinalIgnoreCase) && !k.EndsWith(":s", StringComparison.Ordinal));
        long spent = (long)await database.HashGetAsync(tenant, "spent");
        long reserved = (long)await database.HashGetAsync(tenant, "reserved");
        long limit = (long)await database.HashGetAsync(tenant, "limit");

        output.WriteLine($"limit {BudgetUnits.ToDecimal(limit)}: spent {BudgetUnits.ToDecimal(spent)} = {BudgetUnits.ToDecimal(settled)} settled + {BudgetUnits.ToDecimal(expired)} charged at expiry; reserved {BudgetUnits.ToDecimal(reserved)}, open {open}");
        open.Should().Be(0);
        reserved.Should().Be(0, "every reservation became a charge or a release");
        spent.Should().Be(settled + expired, "spend is exactly the settled costs plus what expired reservations held");
        spent.Should().BeLessThanOrEqualTo(limit + BudgetUnits.From(allowance), "the limit held across the three processes (failing open, up to each one's cap beyond it)");
        spent.Should().BeGreaterThan(limit / 2, "the processes spent most of the budget");
    }

    /// <summary>One worker process, its output read as it runs.</summary>
    private sealed class Worker
    {
        private readonly Process _process;
        private readonly TaskCompletionSource<string> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _progress;
        private string? _runtime;

        private Worker(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    _done.TrySetException(new InvalidOperationException("The worker ended without a summary."));
                }
                else if (e.Data.StartsWith("runtime ", StringComparison.Ordinal))
                {
                    Volatile.Write(ref _runtime, e.Data[8..]);
                }
                else if (e.Data.StartsWith("progress ", StringComparison.Ordinal))
                {
                    Volatile.Write(ref _progress, int.Parse(e.Data[9..], CultureInfo.InvariantCulture));
                }
                else if (e.Data.StartsWith("done ", StringComparison.Ordinal))
                {
                    _done.TrySetResult(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public static Worker Start(RedisServer server, string prefix, int calls, int seed, string? journal = null)
        {
            // The worker built for this test run's framework, beside it: on net8.0 both are self-contained, and `dotnet` runs a
            // self-contained app on the runtime in its folder, .NET 8, though only .NET 10 is installed (DoneAsync checks).
            var dll = Path.Combine(AppContext.BaseDirectory, "InferenceRouter.RedisWorker.dll");
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    dll, "--redis", server.ConnectionString, "--prefix", prefix, "--calls", calls.ToString(CultureInfo.InvariantCulture),
                    "--seed", seed.ToString(CultureInfo.InvariantCulture), "--limit", Limit.ToString(CultureInfo.InvariantCulture),
                    "--reservation-ms", ReservationMs.ToString(CultureInfo.InvariantCulture),
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (journal is not null)
            {
                start.ArgumentList.Add("--fail-open-cap");
                start.ArgumentList.Add(FailOpenCap.ToString(CultureInfo.InvariantCulture));
                start.ArgumentList.Add("--journal");
                start.ArgumentList.Add(journal);
            }

            return new Worker(Process.Start(start)!);
        }

        public Task ProgressAsync(int calls) => Eventually.TrueAsync(() => Volatile.Read(ref _progress) >= calls || _done.Task.IsCompleted, $"a worker finished {calls} calls", 120);

        /// <summary>SIGKILL: no finally blocks, no flush; whatever it had reserved is left open in Redis.</summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public async Task<string> DoneAsync()
        {
            var summary = await _done.Task.WaitAsync(TimeSpan.FromMinutes(3));
            await _process.WaitForExitAsync();
            Volatile.Read(ref _runtime).Should().Be(Environment.Version.ToString(), "the worker runs on the test host's runtime");
            return summary;
        }
    }
}

/// <summary>The worker processes use every core: run alone, so timing-sensitive tests elsewhere never starve.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerProcessesCollection
{
    public const string Name = "worker processes";
}
