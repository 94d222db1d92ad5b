using System.Text;
using InferenceRouter.Tests.Redis;
using InferenceRouter.TestServer;

namespace InferenceRouter.Tests.Budgets;

/// <summary>
/// Tenant and user ids come from callers (a header, a token) and may hold any character. However they are combined, two different
/// ids, or pairs of ids, never name the same account: not in memory, not after the ledger file is read back, not in Redis.
/// </summary>
public sealed class BudgetIdsTests
{
    // Separators the keys use or used (/ : |), braces (Redis hash tags), the escape character itself, an escape sequence written out,
    // newlines, non-Latin text, an emoji (a surrogate pair) and lone surrogates (which UTF-8 and JSON turn into one replacement character).
    private static readonly string[] Pieces = ["a", "b", "/", "%", "%2F", "%25", ":", "|", "{", "}", "\n", "山田", "é", "😀", "\uD800", "\uDBFF", "\uDC00", " ", "A"];

    private static string? RandomId(Random random)
    {
        int roll = random.Next(12);
        if (roll == 0)
        {
            return null;
        }

        if (roll == 1)
        {
            return string.Empty;
        }

        var id = new StringBuilder();
        for (int i = random.Next(1, 5); i > 0; i--)
        {
            id.Append(Pieces[random.Next(Pieces.Length)]);
        }

        return id.ToString();
    }

    /// <summary>Pairs that collided under an earlier key scheme, then random ones.</summary>
    private static List<(string? Tenant, string? User)> Pairs(int seed, int count)
    {
        var pairs = new List<(string?, string?)>
        {
            (null, "a/b"), ("a", "b"),          // a tenant-less user named like a tenant's user
            ("", "b"), (null, "/b"),            // an empty tenant and a user starting with the separator
            ("a%2Fb", "c"), ("a/b", "c"),       // an escape written out and the character it stands for
            ("\uD800", "x"), ("\uDBFF", "x"),   // two lone surrogates (one replacement character in UTF-8)
            ("x", "\uD800"), ("x", "\uDC00"),
            ("A", "b"), ("a", null), (null, "a"), ("", ""), (null, ""),
        };
        var random = new Random(seed);
        while (pairs.Count < count)
        {
            pairs.Add((RandomId(random), RandomId(random)));
        }

        return pairs;
    }

    private static BudgetOptions Options()
    {
        // Tenant-less pairs share one account of the tenant limit, which no tenant id may name.
        var options = new BudgetOptions { UseDefaultPriceCatalog = false, UnknownTenant = UnknownTenantPolicy.SharedAccount };
        options.Prices["m"] = new ModelPrice { InputPerMillion = 1_000m, OutputPerMillion = 1_000m };
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Amount = 1_000m });
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.User, Amount = 1_000m });
        return options;
    }

    [Fact]
    public void Random_id_pairs_never_map_to_the_same_account_unless_equal_and_every_scope_value_survives_utf8()
    {
        var limits = Options().Limits;
        var target = new BudgetTarget("route", "m", RoutePricing.Free, RouteDescriptor.EmptyTags, TokenCounters.UpperBound, null);
        foreach (var limit in limits)
        {
            var owners = new Dictionary<string, (string?, string?)>(StringComparer.Ordinal);
            foreach (var pair in Pairs(seed: 21, count: 20_000))
            {
                if (!limit.TryGetScopeValue(pair.Tenant, pair.User, target, UnknownTenantPolicy.SharedAccount, out var value))
                {
                    continue;
                }

                // What a tenant account counts is the tenant alone; a user account, the pair.
                var owner = limit.Scope == BudgetScope.Tenant ? (pair.Tenant, null) : pair;
                if (owners.TryGetValue(value, out var other))
                {
                    other.Should().Be(owner, "scope value '{0}' of limit {1} is named by both", value, limit.DisplayName);
                }

                owners[value] = owner;
                Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value)).Should().Be(value, "a scope value must come back from UTF-8 (Redis keys, the JSON file) unchanged");
            }
        }
    }

    [Fact]
    public async Task Each_pair_spends_only_its_own_accounts_in_memory_and_after_the_file_is_read_back()
    {
        var directory = Directory.CreateTempSubdirectory("ids-");
        var path = Path.Combine(directory.FullName, "spend.json");
        try
        {
            var pairs = Pairs(seed: 8, count: 400);
            IReadOnlyList<BudgetAccountBalance> before;
            using (var ledger = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path }))
            {
                before = await SpendOnceEachAsync(ledger, pairs);
            }

            using var restarted = new InMemoryBudgetLedger(new InMemoryBudgetLedgerOptions { PersistencePath = path });
            (await restarted.GetBalancesAsync()).Select(b => (b.Key, b.Spent)).Should().BeEquivalentTo(before.Select(b => (b.Key, b.Spent)), "the file gives every account back under its own key");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [RedisFact]
    public async Task Each_pair_spends_only_its_own_accounts_in_redis()
    {
        await using var server = await RedisServer.StartAsync();
        using var redis = await server.ConnectAsync();
        using var ledger = new RedisBudgetLedger(redis, new RedisBudgetLedgerOptions { KeyPrefix = "ids" });

        await SpendOnceEachAsync(ledger, Pairs(seed: 9, count: 300));
    }

    /// <summary>Settles 0.001 once per pair (pairs may repeat), then checks that each account holds exactly what its own pairs spent.</summary>
    private static async Task<IReadOnlyList<BudgetAccountBalance>> SpendOnceEachAsync(IBudgetLedger ledger, List<(string? Tenant, string? User)> pairs)
    {
        using var budget = new BudgetManager(Options(), ledger);
        var target = budget.GetTarget("m");
        foreach (var (tenant, user) in pairs)
        {
            var attempt = await budget.ReserveAsync(tenant, user, target, 1, default, null, null, [], new ChatOptions { MaxOutputTokens = 1 }, default);
            await attempt.SettleAsync(new UsageDetails { InputTokenCount = 1, OutputTokenCount = 0 }, null);
        }

        var balances = await ledger.GetBalancesAsync();
        // Tenant-less pairs (null) form one more group: the shared account (UnknownTenant = SharedAccount).
        var tenants = pairs.GroupBy(p => p.Tenant, StringComparer.Ordinal).Select(g => g.Count() * 0.001m);
        var users = pairs.Where(p => p.User is not null).GroupBy(p => (p.Tenant, p.User)).Select(g => g.Count() * 0.001m);
        balances.Where(b => b.Key.Limit == "tenant/lifetime").Select(b => b.Spent).Should().BeEquivalentTo(tenants, "one account per distinct tenant, holding what that tenant spent");
        balances.Where(b => b.Key.Limit == "user/lifetime").Select(b => b.Spent).Should().BeEquivalentTo(users, "one account per distinct tenant and user, holding what that pair spent");
        return balances;
    }
}
