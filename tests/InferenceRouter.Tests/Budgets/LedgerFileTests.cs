using System.Diagnostics;

namespace InferenceRouter.Tests.Budgets;

/// <summary>
/// One ledger file, one ledger: across processes (a second instance, a rolling deploy where the old process still runs, a crash that
/// leaves the lock file behind) and however opens and releases interleave, two ledgers never hold the same file, so neither writes its
/// spend over the other's.
/// </summary>
public sealed class LedgerFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ledger-file-").FullName;

    private string SpendPath => Path.Combine(_directory, "spend.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<decimal> SpentAsync()
    {
        using var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = SpendPath });
        return (await ledger.GetBalancesAsync()).Single().Spent;
    }

    [Fact]
    public async Task Another_process_is_refused_the_file_while_one_holds_it_and_neither_a_deploy_nor_a_crash_loses_spend()
    {
        using (var old = await Holder.StartAsync(SpendPath, 1m))
        {
            (await old.ReadAsync()).Should().Be("holding");

            // A second instance while the first runs: refused, in this process and in another.
            FluentActions.Invoking(() => new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = SpendPath }))
                .Should().Throw<InvalidOperationException>().WithMessage($"*{SpendPath}*own PersistencePath*");
            using var second = await Holder.StartAsync(SpendPath, 5m);
            (await second.ReadAsync()).Should().StartWith("refused ").And.Contain("own PersistencePath");

            // The rolling deploy completes: the old process stops, and its spend is in the file for the new one.
            await old.StopAsync();
        }

        (await SpentAsync()).Should().Be(1m, "the refused instance wrote nothing; the old one's spend is all there");

        using (var crashed = await Holder.StartAsync(SpendPath, 2m))
        {
            (await crashed.ReadAsync()).Should().Be("holding");
            crashed.Kill();
        }

        File.Exists(SpendPath + ".lock").Should().BeTrue("a killed process leaves its lock file behind");
        (await SpentAsync()).Should().Be(3m, "the stale lock file does not block the next ledger, which has the killed one's written spend");
    }

    [FlockFact]
    public async Task A_process_waiting_for_the_file_when_its_ledger_releases_it_holds_it_alone()
    {
        // util-linux flock(1): another process that opened the lock file while the ledger held it and waits for the lock, as a second
        // instance's open can land just before the first one releases. It gets the lock when the ledger is disposed; from then on no
        // ledger may take the file (were the lock file deleted on release, a new ledger would create and lock a new one beside it).
        var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = SpendPath });
        using var waiter = Process.Start(new ProcessStartInfo(FlockFactAttribute.Flock!) { ArgumentList = { SpendPath + ".lock", "-c", "echo locked; read line" }, RedirectStandardInput = true, RedirectStandardOutput = true })!;
        try
        {
            await Task.Delay(1_000);   // the waiter has opened the lock file and blocks on it
            ledger.Dispose();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            (await waiter.StandardOutput.ReadLineAsync(timeout.Token)).Should().Be("locked");

            FluentActions.Invoking(() => new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = SpendPath }))
                .Should().Throw<InvalidOperationException>("the waiter holds the file now: a second holder would write its spend over another's");
        }
        finally
        {
            ledger.Dispose();
            await waiter.StandardInput.WriteLineAsync();
            waiter.WaitForExit(10_000);
        }
    }

    /// <summary>A ledger in another process (tests/InferenceRouter.RedisWorker --hold-ledger), holding the file until told to stop.</summary>
    private sealed class Holder : IDisposable
    {
        private readonly Process _process;

        private Holder(Process process) => _process = process;

        public static Task<Holder> StartAsync(string path, decimal spend)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "InferenceRouter.RedisWorker.dll"), "--hold-ledger", path, spend.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            };
            return Task.FromResult(new Holder(Process.Start(start)!));
        }

        /// <summary>The next line the holder prints, after its runtime line.</summary>
        public async Task<string> ReadAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                var line = await _process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("The holder ended without a word.");
                if (!line.StartsWith("runtime ", StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }

        public async Task StopAsync()
        {
            await _process.StandardInput.WriteLineAsync();
            (await ReadAsync()).Should().Be("released");
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        /// <summary>SIGKILL: no disposal, no last write; the lock file stays.</summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                Kill();
            }

            _process.Dispose();
        }
    }
}

/// <summary>A fact that needs util-linux <c>flock</c> (Linux): skipped, saying so, elsewhere.</summary>
public sealed class FlockFactAttribute : FactAttribute
{
    public FlockFactAttribute()
    {
        Skip = Flock is null ? "needs util-linux flock on PATH (Linux)" : null;
    }

    public static string? Flock { get; } = OperatingSystem.IsWindows() ? null
        : (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Select(d => Path.Combine(d, "flock")).FirstOrDefault(File.Exists);
}
