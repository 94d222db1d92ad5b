using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace InferenceRouter.Tests.Redis;

/// <summary>
/// Two unrelated apps on one Redis never share a budget by default: the key prefix is required in code and is the app's name under
/// <c>UseRedis()</c>; and an app whose limits disagree with the ones stored under its prefix is refused, naming the prefix, the limit,
/// both values and the fix.
/// </summary>
public sealed class RedisKeyPrefixTests
{
    private static HostApplicationBuilder App(RedisServer server, string name, decimal tenantLimit, Action<IDictionary<string, string?>>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = server.ConnectionString,
            ["InferenceRouter:Budgets:UseDefaultPriceCatalog"] = "false",
            ["InferenceRouter:Budgets:Prices:test-model:InputPerMillion"] = "1000",
            ["InferenceRouter:Budgets:Prices:test-model:OutputPerMillion"] = "1000",
            ["InferenceRouter:Budgets:Limits:0:Scope"] = "Tenant",
            ["InferenceRouter:Budgets:Limits:0:Amount"] = tenantLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        settings?.Invoke(values);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = name, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(values);
        var answering = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 10 } }),
        };
        builder.Services.AddInferenceRouter(builder.Configuration.GetSection("InferenceRouter"), r => r
                .AddRoute(new RouteDescriptor("only") { ModelId = "test-model", MaxOutputTokens = 10 }, answering)
                .UseRedis())
            .UseBudgets();
        return builder;
    }

    private static readonly ChatOptions Acme = new ChatOptions { MaxOutputTokens = 10 }.ForTenant("acme");

    [RedisFact]
    public async Task Two_apps_that_set_no_prefix_keep_separate_budgets_under_their_own_names()
    {
        await using var server = await RedisServer.StartAsync();
        using var billing = App(server, "billing-api", 0.05m).Build();
        using var search = App(server, "search-api", 0.05m).Build();
        await billing.StartAsync();
        await search.StartAsync();

        // 0.02 a call: two fit 0.05. Were the budgets shared, search's second call would be refused.
        for (int i = 0; i < 2; i++)
        {
            await billing.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hi", Acme);
            await search.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hi", Acme);
        }

        (await server.KeysAsync("{billing-api}:a:*")).Should().NotBeEmpty();
        (await server.KeysAsync("{search-api}:a:*")).Should().NotBeEmpty();
        (await server.KeysAsync("{inference-router}:*")).Should().BeEmpty("no app falls into a shared default prefix");
        await billing.StopAsync();
        await search.StopAsync();
    }

    [Fact]
    public void A_ledger_made_in_code_without_a_prefix_is_refused_saying_why()
    {
        using var redis = StackExchange.Redis.ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");

        var create = () => new RedisBudgetLedger(redis);

        create.Should().Throw<ArgumentException>().WithMessage("*KeyPrefix is not set*share one budget*");
    }

    [RedisFact]
    public async Task An_app_whose_limit_disagrees_with_the_one_stored_under_its_prefix_is_refused_at_start_naming_both_and_the_fix()
    {
        await using var server = await RedisServer.StartAsync();
        using var first = App(server, "shop", 5m).Build();
        await first.StartAsync();
        await first.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hi", Acme);

        // Another app configured with the same prefix (or this one with a changed limit): it would enforce 20 on a budget of 5.
        using var other = App(server, "reports", 20m, s => s["InferenceRouter:Redis:Budgets:KeyPrefix"] = "shop").Build();
        await other.Awaiting(h => h.StartAsync()).Should().ThrowAsync<InvalidOperationException>()
            .WithMessage("*KeyPrefix 'shop'*'tenant/lifetime'*5*this app's is 20*own*KeyPrefix*OverwriteStoredLimits*");

        // Without a host to start it (or with Redis down at start), the first reservation checks instead.
        using var unstarted = App(server, "reports", 20m, s => s["InferenceRouter:Redis:Budgets:KeyPrefix"] = "shop").Build();
        await unstarted.Services.GetRequiredService<IChatClient>().Awaiting(c => c.GetResponseAsync("Hi", Acme))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*'shop'*20*");

        // A deliberate change: this deploy stores its limit over the old one; the instance that started before keeps its own.
        using var changed = App(server, "shop", 20m, s => s["InferenceRouter:Redis:Budgets:OverwriteStoredLimits"] = "true").Build();
        await changed.StartAsync();
        await changed.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hi", Acme);
        await first.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hi", Acme);
        using var again = App(server, "shop", 5m).Build();
        await again.Awaiting(h => h.StartAsync()).Should().ThrowAsync<InvalidOperationException>("20 is the stored limit now: an instance still configured with 5 is refused");
        await first.StopAsync();
        await changed.StopAsync();
    }
}
