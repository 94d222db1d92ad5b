using static InferenceRouter.Tests.Budgets.BudgetChatClientTests;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Budgets;

/// <summary>A limit keyed to one tenant or user holds one account, however the caller spells the id it matches.</summary>
public class KeyedLimitTests
{
    [Theory]
    [InlineData(BudgetScope.Tenant, "acme")]
    [InlineData(BudgetScope.User, "bob")]
    [InlineData(BudgetScope.User, "acme/bob")]
    public async Task A_keyed_limit_is_one_account_whatever_the_case_of_the_id(BudgetScope scope, string key)
    {
        using var budget = Budget(limits: new BudgetLimit { Name = "keyed", Scope = scope, Key = key, Window = BudgetWindow.Lifetime, Amount = 0.01m, Enforcement = BudgetEnforcement.Reject });
        using var client = new BudgetChatClient(WithUsage(), budget); // $0.002 per call
        var random = new Random(Environment.TickCount);
        int answered = 0;
        for (int i = 0; i < 30; i++)
        {
            // Each call spells the ids its own way: acme, ACME, aCmE…
            string Spell(string id) => new([.. id.Select(c => random.Next(2) == 0 ? char.ToUpperInvariant(c) : c)]);
            // A bare user key means that user in each tenant (an account per tenant): there only the user's spelling varies.
            var tenant = scope == BudgetScope.User && !key.Contains('/') ? "acme" : Spell("acme");
            var options = new ChatOptions { ModelId = "test-model", MaxOutputTokens = 100 }.ForTenant(tenant, Spell("bob"));
            try
            {
                await client.GetResponseAsync(Prompt(), options);
                answered++;
            }
            catch (BudgetExceededException)
            {
            }
        }

        var accounts = (await budget.Ledger.GetBalancesAsync()).ToList();
        accounts.Should().ContainSingle("every spelling matches the one keyed limit, so they share its one account");
        accounts[0].Spent.Should().BeLessThanOrEqualTo(0.01m);
        answered.Should().BeLessThanOrEqualTo(5);
    }

    [Fact]
    public void More_limits_than_one_reservation_can_hold_are_refused_at_start()
    {
        var options = new BudgetOptions();
        options.Limits.AddRange(Enumerable.Range(0, 65).Select(i => new BudgetLimit { Name = $"l{i}", Amount = 1m }));

        options.GetValidationErrors().Should().ContainSingle().Which.Should().Contain("at most 64");
    }
}
