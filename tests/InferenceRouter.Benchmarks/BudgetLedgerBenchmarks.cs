using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Benchmarks;

/// <summary>Reserve + settle pairs on the in-memory ledger: one account, three accounts (global, tenant, route), 64 concurrent workers, and the budget's whole per-call path.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class BudgetLedgerBenchmarks
{
    private const int Workers = 64;
    private const int PairsPerWorker = 64;
    private static readonly DateTimeOffset Expiry = DateTimeOffset.MaxValue;
    private static readonly BudgetAccountKey[] Keys = [new("global/lifetime", string.Empty, DateTimeOffset.UnixEpoch), new("tenant/day", "acme", DateTimeOffset.UnixEpoch), new("route/month", "gpt", DateTimeOffset.UnixEpoch)];

    private readonly BudgetAccount[] _one = [new(Keys[0], decimal.MaxValue / 4, TimeSpan.Zero)];
    private readonly BudgetAccount[] _three = [.. Keys.Select(k => new BudgetAccount(k, decimal.MaxValue / 4, TimeSpan.Zero))];
    private static readonly List<ChatMessage> Prompt = [new(ChatRole.User, "What is the capital of France?")];
    private static readonly ChatOptions Options = new ChatOptions { MaxOutputTokens = 500 }.ForTenant("acme");
    private InMemoryBudgetLedger _ledger = null!;
    private BudgetManager _manager = null!;
    private BudgetTarget _target = null!;
    private UsageDetails _usage = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ledger = new InMemoryBudgetLedger();
        var options = new BudgetOptions();
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Global, Amount = 100_000_000m });
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Window = BudgetWindow.Day, Amount = 100_000_000m });
        _manager = new BudgetManager(options, new InMemoryBudgetLedger());
        _target = _manager.GetTarget("gpt-4.1-mini");
        _usage = new UsageDetails { InputTokenCount = 120, OutputTokenCount = 300 };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ledger.Dispose();
        _manager.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ledger, 1 account")]
    public ValueTask<BudgetSettlement> OneAccount() => Pair(_one);

    [Benchmark(Description = "ledger, 3 accounts")]
    public ValueTask<BudgetSettlement> ThreeAccounts() => Pair(_three);

    [Benchmark(Description = "ledger, 3 accounts, 64 workers", OperationsPerInvoke = Workers * PairsPerWorker)]
    public Task Contended() => Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(() =>
    {
        for (int i = 0; i < PairsPerWorker; i++)
        {
            Pair(_three).GetAwaiter().GetResult();
        }
    })));

    private readonly ChatOptions _maxOutput500 = new() { MaxOutputTokens = 500 };

    [Benchmark(Description = "budget per call (2 limits, cost)")]
    public async ValueTask<CallCost?> ManagerPerCall()
    {
        var attempt = await _manager.ReserveAsync("acme", null, _target, 120, default, null, null, Prompt, _maxOutput500, CancellationToken.None).ConfigureAwait(false);
        return await attempt.SettleAsync(_usage, null).ConfigureAwait(false);
    }

    [Benchmark(Description = "count prompt tokens (o200k)")]
    public long CountPromptTokens() => PromptTokens.Count(OpenAITokenCounters.O200kBase, Prompt, null);

    [Benchmark(Description = "ChatOptions.Clone + properties copy")]
    public ChatOptions CloneOptions()
    {
        var copy = Options.Clone();
        copy.AdditionalProperties = new AdditionalPropertiesDictionary(Options.AdditionalProperties!);
        return copy;
    }

    // The in-memory ledger completes synchronously; .Result reads the finished ValueTask.
    private ValueTask<BudgetSettlement> Pair(BudgetAccount[] accounts) =>
        _ledger.SettleAsync(_ledger.ReserveAsync(accounts, 0.0001m, Expiry).Result, 0.00005m);
}
