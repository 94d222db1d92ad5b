using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceRouter.Tests.Budgets;

/// <summary>What a limit scoped to every tenant does with a call that names no tenant is the app's explicit choice (UnknownTenant), through a router over the real OpenAI SDK.</summary>
public class UnknownTenantTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task By_default_a_tenant_less_call_under_a_tenant_limit_is_refused_before_the_provider_naming_the_limit_and_the_fix(bool streaming)
    {
        await using var server = await FakeProviderServer.StartAsync("house");
        using var app = Build(server, policy: null);
        var client = app.GetRequiredService<IChatClient>();

        var error = (await FluentActions.Awaiting(() => CallAsync(client, tenant: null, streaming)).Should().ThrowAsync<InvalidOperationException>()).Which;

        error.Message.Should().Contain("names no tenant").And.Contain("'per-tenant'").And.Contain("ForTenant").And.Contain("InferenceRouter:Budgets:UnknownTenant");
        server.RequestCount.Should().Be(0, "the call is refused before any provider is asked");

        // A call that names its tenant is unaffected.
        await CallAsync(client, "acme", streaming);
        server.RequestCount.Should().Be(1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shared_account_charges_every_tenant_less_call_to_one_account_no_tenant_can_name(bool streaming)
    {
        await using var server = await FakeProviderServer.StartAsync("house", new ServerBehavior { PromptTokens = 1000, CompletionTokens = 1000 });
        using var app = Build(server, "SharedAccount");
        var client = app.GetRequiredService<IChatClient>();
        var random = new Random(Environment.TickCount);
        int tenantless = random.Next(1, 5);

        decimal expected = 0;
        for (int i = 0; i < tenantless; i++)
        {
            expected += await CallAsync(client, tenant: null, random.Next(2) == 0 ? streaming : !streaming);
        }

        // A tenant literally named like the shared account gets its own account.
        decimal impostor = await CallAsync(client, "%(no tenant)", streaming);

        var balances = await app.GetRequiredService<BudgetManager>().Ledger.GetBalancesAsync();
        var shared = balances.Where(b => b.Key.Limit == "per-tenant" && b.Key.ScopeValue == "%(no tenant)").ToList();
        shared.Should().ContainSingle().Which.Spent.Should().Be(expected);
        expected.Should().BeGreaterThan(0);
        balances.Where(b => b.Key.Limit == "per-tenant" && b.Key.ScopeValue != "%(no tenant)").Should().ContainSingle().Which.Spent.Should().Be(impostor);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Allow_leaves_tenant_less_calls_out_of_tenant_limits_and_global_limits_still_count_them(bool streaming)
    {
        await using var server = await FakeProviderServer.StartAsync("house", new ServerBehavior { PromptTokens = 1000, CompletionTokens = 1000 });
        using var app = Build(server, "Allow", globalLimit: true);
        var client = app.GetRequiredService<IChatClient>();

        decimal cost = await CallAsync(client, tenant: null, streaming);

        var balances = await app.GetRequiredService<BudgetManager>().Ledger.GetBalancesAsync();
        balances.Should().NotContain(b => b.Key.Limit == "per-tenant");
        balances.Should().ContainSingle(b => b.Key.Limit == "everyone").Which.Spent.Should().Be(cost);
    }

    [Fact]
    public void The_policy_binds_from_configuration_and_an_unknown_value_is_refused()
    {
        var options = new BudgetOptions { UnknownTenant = (UnknownTenantPolicy)7 };
        FluentActions.Invoking(() => new BudgetManager(options)).Should().Throw<ArgumentException>().WithMessage("*Budgets:UnknownTenant is 7; use Reject, SharedAccount or Allow*");
        new BudgetOptions().UnknownTenant.Should().Be(UnknownTenantPolicy.Reject);
    }

    private static async Task<decimal> CallAsync(IChatClient client, string? tenant, bool streaming)
    {
        var options = new ChatOptions { MaxOutputTokens = 100 }.WithRoute("house");
        if (tenant is not null)
        {
            options = options.ForTenant(tenant);
        }

        if (!streaming)
        {
            return (await client.GetResponseAsync("Hi", options)).GetCost()!.Amount;
        }

        var updates = await client.GetStreamingResponseAsync("Hi", options).ToListAsync();
        return updates.ToChatResponse().GetCost()?.Amount ?? updates.Select(u => u.GetCost()).Last(c => c is not null)!.Amount;
    }

    private static ServiceProvider Build(FakeProviderServer server, string? policy, bool globalLimit = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["InferenceRouter:Routes:0:Name"] = "house",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = server.BaseUrl.ToString(),
            ["InferenceRouter:Routes:0:Model"] = "house-llm-7b",
            ["InferenceRouter:Routes:0:InputPricePerMillion"] = "1",
            ["InferenceRouter:Routes:0:OutputPricePerMillion"] = "2",
            ["InferenceRouter:Budgets:Limits:0:Name"] = "per-tenant",
            ["InferenceRouter:Budgets:Limits:0:Scope"] = "Tenant",
            ["InferenceRouter:Budgets:Limits:0:Window"] = "Day",
            ["InferenceRouter:Budgets:Limits:0:Amount"] = "10",
        };
        if (policy is not null)
        {
            settings["InferenceRouter:Budgets:UnknownTenant"] = policy;
        }

        if (globalLimit)
        {
            settings["InferenceRouter:Budgets:Limits:1:Name"] = "everyone";
            settings["InferenceRouter:Budgets:Limits:1:Scope"] = "Global";
            settings["InferenceRouter:Budgets:Limits:1:Window"] = "Day";
            settings["InferenceRouter:Budgets:Limits:1:Amount"] = "10";
        }

        var services = new ServiceCollection();
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("InferenceRouter")).UseBudgets();
        return services.BuildServiceProvider();
    }
}
