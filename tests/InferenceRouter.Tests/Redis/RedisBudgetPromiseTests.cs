using InferenceRouter.TestServer;

namespace InferenceRouter.Tests.Redis;

/// <summary>
/// The budget promise on Redis with huge amounts: random calls from two instances, each reserving up to 1.2 million currency
/// units (far beyond the 2⁵³ units a Lua number holds exactly) against limits up to the largest the options accept. At every change the
/// ledger reports, no account holds more than its limit, and at the end every account holds exactly the costs settled in it.
/// </summary>
public sealed class RedisBudgetPromiseTests
{
    [RedisFact]
    public async Task Random_calls_with_huge_amounts_from_two_instances_never_push_a_limit_over_and_spend_is_exact_to_the_unit()
    {
        await using var server = await RedisServer.StartAsync();
        var options = new BudgetOptions { UseDefaultPriceCatalog = false };
        // About 100 and 300 a token, with digits to the last unit: a call's worst case is up to 1.2 million, 1.2 × 10¹⁶ units, which a
        // double (a Lua number) cannot hold exactly.
        options.Prices["huge-model"] = new ModelPrice { InputPerMillion = 100_000_000.0001m, OutputPerMillion = 299_999_999.9999m };
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Global, Amount = 100_000_000m });                           // BudgetUnits.MaxAmount
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Window = BudgetWindow.Day, Amount = 30_000_000m });
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.User, Window = BudgetWindow.Rolling, RollingHours = 24, Amount = 9_999_999.9999999999m, Enforcement = BudgetEnforcement.Downgrade });

        var instances = new List<(IChatClient Client, CheckingLedger Ledger, IDisposable Owned)>();
        for (int i = 0; i < 2; i++)
        {
            var redis = await server.ConnectAsync();
            var ledger = new CheckingLedger(new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "promise", OperationTimeout = TimeSpan.FromSeconds(10) }));
            var budget = new BudgetManager(options, ledger);
            var route = new ChatRoute(new RouteDescriptor("huge") { ModelId = "huge-model", MaxOutputTokens = 4_096, Capabilities = RouteCapabilities.All }, new BillingClient());   // the worker processes' provider
            instances.Add((new BudgetChatClient(new RouterChatClient([route]), budget), ledger, redis));
        }

        int answered = 0, refused = 0, cancelled = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 1_500), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var random = new Random(i);
            var (client, _, _) = instances[i % 2];
            var chatOptions = new ChatOptions { MaxOutputTokens = random.Next(3) == 0 ? null : random.Next(1, 4_097) }.ForTenant("t" + random.Next(3), user: "u" + random.Next(4));
            using var cancellation = new CancellationTokenSource();
            if (random.Next(10) == 0)
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
                Interlocked.Increment(ref refused);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelled);
            }
        });

        // A call the router stopped waiting for settles when its provider's client lets go: wait for the last of them.
        await Eventually.TrueAsync(async () => (await instances[0].Ledger.GetBalancesAsync()).All(b => b.Reserved == 0m), "every reservation was settled or released");
        var balances = await instances[0].Ledger.GetBalancesAsync();
        var settled = instances.SelectMany(x => x.Ledger.Settled).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Sum(s => s.Cost));
        instances.Sum(x => x.Ledger.Violations).Should().Be(0, "no change the ledger reported left an account over its limit");
        balances.Should().OnlyContain(b => b.Reserved == 0m, "every reservation was settled or released");
        balances.Should().OnlyContain(b => b.Spent == settled.GetValueOrDefault(b.Key), "each account holds exactly the costs settled in it, to the unit");
        balances.Should().OnlyContain(b => b.Spent <= b.Limit);
        balances.Single(b => b.Key.Limit == "global/lifetime").Spent.Should().BeGreaterThan(10_000_000m, "the amounts were huge");
        refused.Should().BeGreaterThan(0, "the limits were reached, so they were tested ({0} answered, {1} cancelled)", answered, cancelled);
        foreach (var (client, _, owned) in instances)
        {
            client.Dispose();
            owned.Dispose();
        }
    }

    /// <summary>Forwards to the Redis ledger and checks every balance it reports after a change; records each settled cost by account.</summary>
    private sealed class CheckingLedger(RedisBudgetLedger inner) : IBudgetLedger
    {
        private int _violations;

        public int Violations => Volatile.Read(ref _violations);

        public System.Collections.Concurrent.ConcurrentBag<(BudgetAccountKey Key, decimal Cost)> Settled { get; } = [];

        public async ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
        {
            var reservation = await inner.ReserveAsync(accounts, amount, expiresAt, cancellationToken);
            if (reservation.Denied is { } denied)
            {
                Check(denied);
            }

            return reservation;
        }

        public async ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default)
        {
            var settlement = await inner.SettleAsync(reservation, cost, cancellationToken);
            if (settlement.Applied)
            {
                foreach (var balance in settlement.Balances)
                {
                    Check(balance);
                    Settled.Add((balance.Key, BudgetUnits.ToDecimal(BudgetUnits.From(cost))));
                }
            }

            return settlement;
        }

        public ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default) => inner.ReleaseAsync(reservation, cancellationToken);

        public ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default) => inner.GetBalancesAsync(cancellationToken);

        private void Check(BudgetAccountBalance balance)
        {
            if (balance.Spent + balance.Reserved > balance.Limit)
            {
                Interlocked.Increment(ref _violations);
            }
        }
    }
}
