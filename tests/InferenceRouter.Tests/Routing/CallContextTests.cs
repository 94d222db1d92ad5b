using InferenceRouter.Tests.Integration;
using InferenceRouter.Tests.Redis;
using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Routing;

/// <summary>
/// One call context, captured when the call is made: a helper that opens a <see cref="RoutingScope"/> and returns the call (as an endpoint
/// returning a stream does) still has it routed, cached and keyed as the scope said, through the cache, the router and Redis, real
/// OpenAI SDK routes against loopback servers.
/// </summary>
public class CallContextTests
{
    private const string Question = "My diagnosis is private. What should I do next?";

    private static readonly RoutingHints PrivateForTenantA = new() { LocalOnly = true, Tenant = "tenant-a" };

    /// <summary>As an endpoint that returns <see cref="IAsyncEnumerable{T}"/> does: the scope ends before the stream is read.</summary>
    private static IAsyncEnumerable<ChatResponseUpdate> StreamInScope(IChatClient client, string question, RoutingHints hints)
    {
        using (RoutingScope.Begin(hints))
        {
            return client.GetStreamingResponseAsync(question);
        }
    }

    private static Task<ChatResponse> AskInScope(IChatClient client, string question, RoutingHints hints)
    {
        using (RoutingScope.Begin(hints))
        {
            return client.GetResponseAsync(question);
        }
    }

    private static async Task<(string Text, RoutingInfo? Info)> ReadAsync(IAsyncEnumerable<ChatResponseUpdate> stream)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in stream)
        {
            updates.Add(update);
        }

        return (updates.ToChatResponse().Text, updates.Select(u => u.GetRoutingInfo()).LastOrDefault(i => i is not null));
    }

    private static ServiceProvider Host(LoopbackServers servers, string redis)
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(r =>
            {
                foreach (var server in servers.Servers)
                {
                    r.AddRoute(new RouteDescriptor(server.Name) { ModelId = server.Name + "-model", Pricing = new(1m, 2m), IsLocal = server.Name == "local", Capabilities = RouteCapabilities.All }, server.CreateChatClient(server.Name + "-model"));
                }

                r.UseRedis(o => o.ConnectionString = redis);
            })
            .UseSemanticCache()
            .UseBudgets();
        return services.BuildServiceProvider();
    }

    [RedisTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_call_made_inside_a_scope_keeps_the_scope_when_it_runs_after_the_scope_ended(bool streaming)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var servers = await LoopbackServers.StartAsync("cloud", "local");
        await using var host = Host(servers, redis.ConnectionString);
        var client = host.GetRequiredService<IChatClient>();

        async Task<(string Text, RoutingInfo? Info)> CallAsync(RoutingHints hints)
        {
            if (streaming)
            {
                return await ReadAsync(StreamInScope(client, Question, hints));
            }

            var response = await AskInScope(client, Question, hints);
            return (response.Text, response.GetRoutingInfo());
        }

        var (text, info) = await CallAsync(PrivateForTenantA);
        text.Should().Be("Hello from local", "the call was made kept on the device: no remote route may answer it");
        info!.Route.Should().Be("local");
        info.KeptOnDevice.Should().BeTrue();
        servers[0].RequestCount.Should().Be(0, "the cloud route never saw the private question");

        using var connection = await redis.ConnectAsync();
        connection.GetServers().Single().Keys(pattern: "*:c:*").Should().BeEmpty("the private answer's cache entry stays on this instance");

        var (again, againInfo) = await CallAsync(PrivateForTenantA);
        again.Should().Be("Hello from local");
        againInfo!.CacheHit.Should().Be(CacheTier.Exact, "the same private call of the same tenant is a hit");
        againInfo.KeptOnDevice.Should().BeTrue("a hit of a call kept on the device says so");

        var (untenanted, untenantedInfo) = streaming ? await ReadAsync(client.GetStreamingResponseAsync(Question)) : ToPair(await client.GetResponseAsync(Question));
        untenantedInfo!.CacheHit.Should().BeNull("tenant A's answer is never served to a call without its tenant");
        untenanted.Should().Be("Hello from cloud");
    }

    private static (string, RoutingInfo?) ToPair(ChatResponse response) => (response.Text, response.GetRoutingInfo());

    [Fact]
    public async Task A_stream_enumerated_inside_another_scope_is_routed_by_the_scope_it_was_made_in()
    {
        await using var servers = await LoopbackServers.StartAsync("cloud", "local");
        using var router = new RouterChatClient(servers.Routes((s, d) => new RouteDescriptor(d.Name) { ModelId = d.ModelId, Pricing = new(1m, 2m), Capabilities = d.Capabilities, IsLocal = s.Name == "local" }));
        var budget = new BudgetManager();
        using var client = new SemanticCacheChatClient(new BudgetChatClient(router, budget));

        // Made outside any scope, read inside one that keeps calls on the device: it was made as an ordinary call.
        var stream = client.GetStreamingResponseAsync("Where is the nearest pharmacy?");
        (string Text, RoutingInfo? Info) read;
        using (RoutingScope.Begin(new RoutingHints { LocalOnly = true, Tenant = "other" }))
        {
            read = await ReadAsync(stream);
        }

        read.Info!.Route.Should().Be("cloud");
        read.Info.KeptOnDevice.Should().BeFalse();
    }

    [Fact]
    public void The_context_is_captured_once_and_carried_in_a_copy_of_the_options()
    {
        var options = new ChatOptions { Temperature = 0.2f }.ForTenant("acme");
        CallContext captured;
        using (RoutingScope.Begin(new RoutingHints { LocalOnly = true, RequiredTags = new Dictionary<string, string> { ["region"] = "eu" } }))
        {
            captured = CallContext.Capture(options);
        }

        captured.Tenant.Should().Be("acme");
        captured.KeepOnDevice.Should().BeTrue();
        captured.Hints.RequiredTags.Should().ContainKey("region");

        var carried = captured.AttachTo(options);
        carried.Should().NotBeSameAs(options);
        options.AdditionalProperties.Should().ContainKey(ChatOptionsRoutingExtensions.HintsKey).And.NotContainKey(CallContext.OptionsKey, "the caller's options never change");
        carried.AdditionalProperties.Should().NotContainKey(ChatOptionsRoutingExtensions.HintsKey, "the hints are in the context");

        using (RoutingScope.Begin(new RoutingHints { Tenant = "someone-else", LocalOnly = false }))
        {
            var again = CallContext.Capture(carried);
            again.Should().BeSameAs(captured, "a layer below never reads the scope again");
            CallContext.Capture(carried.WithRoute("local")).Hints.Route.Should().Be("local", "hints added below the capture combine on top of it");
        }
    }

    [Fact]
    public async Task The_router_strips_the_context_before_a_provider_sees_the_options()
    {
        var provider = TestChatClient.Answering("ok");
        using var router = Router(Of("only", provider, d => new RouteDescriptor(d.Name) { Pricing = new(1m, 2m) }));
        using var client = new BudgetChatClient(router, new BudgetManager());
        await client.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 10 }.ForTenant("acme"));
        var sent = provider.ReceivedOptions.Single()!;
        (sent.AdditionalProperties?.Keys ?? []).Should().NotContain([CallContext.OptionsKey, ChatOptionsRoutingExtensions.HintsKey]);
    }
}
