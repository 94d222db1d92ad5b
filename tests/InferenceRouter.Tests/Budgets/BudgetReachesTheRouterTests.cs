using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Budgets;

/// <summary>
/// A budget over a router holds for every call the router serves, whatever the middleware between them does with the options:
/// rebuilt options, replaced properties, a call made to the router directly.
/// </summary>
public class BudgetReachesTheRouterTests
{
    private static BudgetManager TinyRejectLimit() => new(new BudgetOptions
    {
        Limits = { new BudgetLimit { Scope = BudgetScope.Global, Window = BudgetWindow.Day, Amount = 0.0001m, Enforcement = BudgetEnforcement.Reject } },
    });

    private static ChatRoute Priced(TestChatClient provider) => Of("priced", provider, d => new RouteDescriptor(d.Name) { ModelId = "m", Pricing = new RoutePricing(10m, 30m) });

    public static TheoryData<string, bool> Middlewares() => new()
    {
        { "rebuilds the options", false },
        { "rebuilds the options", true },
        { "replaces the additional properties", false },
        { "replaces the additional properties", true },
        { "none", false },
        { "none", true },
    };

    [Theory]
    [MemberData(nameof(Middlewares))]
    public async Task A_reject_limit_holds_when_middleware_between_the_budget_and_the_router_rebuilds_the_options(string middleware, bool streaming)
    {
        var provider = TestChatClient.Answering("answer");
        using var budget = TinyRejectLimit();
        var builder = new ChatClientBuilder(Router(Priced(provider))).UseBudgets(budget);
        builder = middleware switch
        {
            "rebuilds the options" => builder.Use(
                (m, o, inner, ct) => inner.GetResponseAsync(m, new ChatOptions { MaxOutputTokens = o?.MaxOutputTokens }, ct),
                (m, o, inner, ct) => inner.GetStreamingResponseAsync(m, new ChatOptions { MaxOutputTokens = o?.MaxOutputTokens }, ct)),
            "replaces the additional properties" => builder.ConfigureOptions(o => o.AdditionalProperties = new() { ["user"] = "x" }),
            _ => builder,
        };
        using var client = builder.Build();
        var options = new ChatOptions { MaxOutputTokens = 1000 }.ForTenant("acme");

        Func<Task> call = streaming
            ? async () => await client.GetStreamingResponseAsync(Prompt(), options).ToChatResponseAsync()
            : () => client.GetResponseAsync(Prompt(), options);

        await call.Should().ThrowAsync<BudgetExceededException>();
        provider.Calls.Should().Be(0, "the budget must admit the attempt before any provider call");
    }

    [Fact]
    public async Task A_call_made_to_the_router_directly_is_budgeted_and_two_layers_of_one_budget_reserve_once()
    {
        var provider = TestChatClient.Answering("answer");
        using var budget = new BudgetManager(new BudgetOptions
        {
            Limits = { new BudgetLimit { Scope = BudgetScope.Global, Window = BudgetWindow.Day, Amount = 1m, Enforcement = BudgetEnforcement.Reject } },
        });
        using var router = Router(Priced(provider));
        var twice = new BudgetChatClient(new BudgetChatClient(router, budget), budget);

        var answer = await twice.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 10 });
        await router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 10 });

        var spent = (await budget.Ledger.GetBalancesAsync()).Single();
        spent.Spent.Should().Be(answer.GetCost()!.Amount * 2, "each call is charged once: the direct call too, the doubled layer not twice");
        spent.Reserved.Should().Be(0m);
    }
}
