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
        (carried.AdditionalProperties?.Keys ?? []).Should().NotContain(ChatOptionsRoutingExtensions.HintsKey, "the hints are in the context");
        carried.Temperature.Should().Be(0.2f);

        using (RoutingScope.Begin(new RoutingHints { Tenant = "someone-else", LocalOnly = false }))
        {
            var again = CallContext.Capture(carried);
            again.Should().BeSameAs(captured, "a layer below never reads the scope again");
            CallContext.Capture(carried.WithRoute("local")).Hints.Route.Should().Be("local", "hints added below the capture combine on top of it");
        }
    }

    [Fact]
    public void Middleware_that_clones_the_options_keeps_the_context_and_a_derived_options_type_carries_it_too()
    {
        var captured = CallContext.Capture(new ChatOptions().ForTenant("acme"));
        var carried = captured.AttachTo(new ChatOptions { TopK = 3, AdditionalProperties = new() { ["other"] = 1 } });
        var cloned = carried.Clone(); // what M.E.AI middleware does before it changes options
        cloned.TopK.Should().Be(3);
        cloned.AdditionalProperties.Should().ContainKey("other");
        CallContext.Capture(cloned).Should().BeSameAs(captured);

        var derived = captured.AttachTo(new DerivedOptions { Extra = "kept", TopK = 4 });
        derived.Should().BeOfType<DerivedOptions>().Which.Extra.Should().Be("kept");
        derived.TopK.Should().Be(4);
        CallContext.Capture(derived).Should().BeSameAs(captured);
        CallContext.Capture(derived.Clone()).Should().BeSameAs(captured);
    }

    /// <summary>An app's or provider's own options type: its state must survive every layer.</summary>
    private sealed class DerivedOptions : ChatOptions
    {
        public DerivedOptions()
        {
        }

        private DerivedOptions(DerivedOptions other)
            : base(other) => Extra = other.Extra;

        public string? Extra { get; init; }

        public override ChatOptions Clone() => new DerivedOptions(this);
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

    /// <summary>A provider stream that answers, then fails to close (an SDK whose DisposeAsync throws).</summary>
    private sealed class StreamFailingToClose : IAsyncEnumerable<ChatResponseUpdate>
    {
        public IAsyncEnumerator<ChatResponseUpdate> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new Enumerator();

        private sealed class Enumerator : IAsyncEnumerator<ChatResponseUpdate>
        {
            private int _index;

            public ChatResponseUpdate Current { get; private set; } = null!;

            public ValueTask<bool> MoveNextAsync()
            {
                Current = _index switch
                {
                    0 => new ChatResponseUpdate(ChatRole.Assistant, "Hello "),
                    1 => new ChatResponseUpdate(ChatRole.Assistant, "world") { FinishReason = ChatFinishReason.Stop },
                    _ => null!,
                };
                return new(_index++ < 2);
            }

            public ValueTask DisposeAsync() => throw new IOException("the connection could not be closed");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_stream_that_fails_to_close_still_reports_its_attempt_once_and_holds_no_reservation(bool readToTheEnd)
    {
        var provider = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => new StreamFailingToClose() };
        using var router = Router(Of("only", provider, d => new RouteDescriptor(d.Name) { Pricing = new(1m, 2m) }));
        using var budget = new BudgetManager(new BudgetOptions { Limits = { new BudgetLimit { Amount = 10m } } });
        using var client = new BudgetChatClient(router, budget);

        var text = new System.Text.StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 100 }))
        {
            text.Append(update.Text);
            if (!readToTheEnd)
            {
                break;
            }
        }

        text.ToString().Should().Be(readToTheEnd ? "Hello world" : "Hello ", "an answer delivered is not failed by a stream that cannot close");
        var balance = (await budget.Ledger.GetBalancesAsync()).Single();
        balance.Reserved.Should().Be(0m, "the attempt was reported and its reservation settled");
        balance.Spent.Should().BeGreaterThan(0m, "what the provider produced is charged");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task A_scope_opened_below_the_first_layer_is_never_read_streaming_or_not_hinted_or_not(bool streaming, bool hinted)
    {
        var provider = TestChatClient.Answering("ok");
        using var router = Router(Of("only", provider, d => new RouteDescriptor(d.Name) { Pricing = new(1m, 2m), Capabilities = RouteCapabilities.All }));
        using var budget = new BudgetManager(new BudgetOptions { UnknownTenant = UnknownTenantPolicy.Allow, Limits = { new BudgetLimit { Scope = BudgetScope.Tenant, Amount = 10m } } }); // Allow: a tenant-less call charges no tenant account, so any account seen is the middleware's tenant
        var below = new ChatClientBuilder(new BudgetChatClient(router, budget))
            .Use(async (messages, options, next, cancellationToken) =>
            {
                using (RoutingScope.Begin(new RoutingHints { Tenant = "from-middleware" }))
                {
                    await next(messages, options, cancellationToken);
                }
            })
            .Build();
        using var client = new SemanticCacheChatClient(below);
        var options = hinted ? new ChatOptions().RequireCapabilities(RouteCapabilities.Streaming) : null;

        if (streaming)
        {
            await client.GetStreamingResponseAsync(Prompt("What is the capital of Peru?"), options).ToChatResponseAsync();
        }
        else
        {
            await client.GetResponseAsync(Prompt("What is the capital of Peru?"), options);
        }

        (await budget.Ledger.GetBalancesAsync()).Should().BeEmpty("the call's context was captured by the cache, the first layer: no tenant, whatever the middleware's scope says");
    }
}
