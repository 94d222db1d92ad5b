using System.Runtime.CompilerServices;
using InferenceRouter;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

// One app instance for the scale-out tests: budgeted calls for one shared tenant through RedisBudgetLedger, concurrently, with random
// output sizes, streaming and cancellations, against a provider that bills a random share of the output limit it is sent.
// Optionally fails open (--fail-open-cap, --journal). Prints "progress N" as calls finish and "done answered=… rejected=…
// cancelled=… unavailable=… offline=…" at the end (offline: fail-open steps still unsent). First prints "runtime X.Y.Z", the .NET
// version it runs on, so the tests can check it is the test host's (net8.0 and net10.0 test runs each start their own build).
string Arg(string name) => args[Array.IndexOf(args, name) + 1];
string? Optional(string name) => args.Contains(name) ? Arg(name) : null;
Console.WriteLine($"runtime {Environment.Version}");

// Another mode, for the ledger-file tests: hold an InMemoryBudgetLedger's PersistencePath as a second app instance would, with
// --hold-ledger <path> <spend>: settle <spend>, write the file, print "holding", and keep the file until a line arrives on stdin (or the
// process is killed); print "refused <message>" when the file is in use.
if (args is ["--hold-ledger", var ledgerPath, var spendText])
{
    decimal spend = decimal.Parse(spendText, System.Globalization.CultureInfo.InvariantCulture);
    InMemoryBudgetLedger held;
    try
    {
        held = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = ledgerPath });
    }
    catch (InvalidOperationException e)
    {
        Console.WriteLine("refused " + e.Message);
        return;
    }

    var deployAccount = new BudgetAccount(new BudgetAccountKey("deploy", string.Empty, DateTimeOffset.UnixEpoch), 1_000m, TimeSpan.Zero);
    await held.SettleAsync(await held.ReserveAsync([deployAccount], spend, DateTimeOffset.UtcNow.AddHours(1)), spend);
    await held.FlushAsync();
    Console.WriteLine("holding");
    Console.ReadLine();
    held.Dispose();
    Console.WriteLine("released");
    return;
}
int calls = int.Parse(Arg("--calls"));
int seed = int.Parse(Arg("--seed"));
var options = new BudgetOptions
{
    UseDefaultPriceCatalog = false,
    ReservationTimeout = TimeSpan.FromMilliseconds(int.Parse(Arg("--reservation-ms"))),
};
options.Prices["fake-model"] = new ModelPrice { InputPerMillion = 1m, OutputPerMillion = 4m };
options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Amount = decimal.Parse(Arg("--limit"), System.Globalization.CultureInfo.InvariantCulture) });

using var redis = await ConnectionMultiplexer.ConnectAsync(Arg("--redis"));
using var ledger = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions
{
    KeyPrefix = Arg("--prefix"),
    OperationTimeout = TimeSpan.FromMilliseconds(500),
    FailOpenCap = Optional("--fail-open-cap") is { } cap ? decimal.Parse(cap, System.Globalization.CultureInfo.InvariantCulture) : null,
    FailOpenJournalPath = Optional("--journal"),
});
using var budget = new BudgetManager(options, ledger);
var route = new ChatRoute(new RouteDescriptor("fake") { ModelId = "fake-model", MaxOutputTokens = 2_000, Capabilities = RouteCapabilities.All }, new BillingClient());
using IChatClient client = new BudgetChatClient(new RouterChatClient([route]), budget);

int answered = 0, rejected = 0, cancelled = 0, unavailable = 0, finished = 0;
await Parallel.ForEachAsync(Enumerable.Range(0, calls), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
{
    var random = new Random(seed * 1_000_003 + i);
    var chatOptions = new ChatOptions { MaxOutputTokens = random.Next(3) == 0 ? null : random.Next(1, 1_000) }.ForTenant("shared");
    using var cancellation = new CancellationTokenSource();
    if (random.NextDouble() < 0.1)
    {
        cancellation.CancelAfter(random.Next(0, 3));
    }

    try
    {
        if (random.Next(2) == 0)
        {
            await client.GetResponseAsync("Hello?", chatOptions, cancellation.Token);
        }
        else
        {
            await foreach (var update in client.GetStreamingResponseAsync("Hello?", chatOptions, cancellation.Token))
            {
            }
        }

        Interlocked.Increment(ref answered);
    }
    catch (BudgetExceededException)
    {
        Interlocked.Increment(ref rejected);
    }
    catch (OperationCanceledException)
    {
        Interlocked.Increment(ref cancelled);
    }
    catch (Exception e) when (e is BudgetLedgerUnavailableException || e.InnerException is BudgetLedgerUnavailableException)
    {
        Interlocked.Increment(ref unavailable);
    }

    if (Interlocked.Increment(ref finished) % 100 == 0)
    {
        Console.WriteLine($"progress {finished}");
    }
});

// A fail-open instance sends what it did while Redis was away before it exits (otherwise its journal keeps it for its next start).
for (int attempt = 0; ledger.PendingOfflineCharges > 0 && attempt < 60; attempt++)
{
    try
    {
        await ledger.ChargeOfflineSpendAsync();
    }
    catch (BudgetLedgerUnavailableException)
    {
        await Task.Delay(500);
    }
}

Console.WriteLine($"done answered={answered} rejected={rejected} cancelled={cancelled} unavailable={unavailable} offline={ledger.PendingOfflineCharges}");

/// <summary>
/// Bills one input token and a random share of the output limit it is sent, streaming or not; ignores cancellation once started.
/// Public: the in-process Redis promise test bills the same way.
/// </summary>
public sealed class BillingClient : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { Usage = Usage(options) });

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, "o");
        yield return new ChatResponseUpdate { Contents = [new UsageContent(Usage(options))] };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    private static UsageDetails Usage(ChatOptions? options)
    {
        int limit = options?.MaxOutputTokens ?? throw new InvalidOperationException("The router always sends the output limit it reserved.");
        int output = Random.Shared.Next(0, limit + 1);
        return new UsageDetails { InputTokenCount = 1, OutputTokenCount = output, TotalTokenCount = output + 1 };
    }
}
