using InferenceRouter.TestServer;
using InferenceRouter.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Redis;

/// <summary>Route health shared between two routers (two app instances) through a real redis-server.</summary>
public class RedisRouteHealthSyncTests
{
    [RedisFact]
    public async Task A_retry_after_an_open_circuit_and_a_drain_seen_by_one_instance_are_honoured_by_the_other()
    {
        await using var server = await RedisServer.StartAsync();
        await using var serversA = await LoopbackServers.StartAsync("x", "y", "z");
        await using var serversB = await LoopbackServers.StartAsync("x", "y", "z");
        serversA[0].Enqueue(ServerBehavior.Error(429, retryAfterSeconds: 120));
        serversA[2].DefaultBehavior = ServerBehavior.Error(503);
        var options = new RouterOptions { CircuitBreaker = { MinimumThroughput = 2, FailureRatio = 0.5, BreakDuration = TimeSpan.FromMinutes(1) } };
        using var routerA = new RouterChatClient(serversA.Routes(), options);
        using var routerB = new RouterChatClient(serversB.Routes(), options);
        using var redisA = await server.ConnectAsync();
        using var redisB = await server.ConnectAsync();
        string prefix = "health-" + Guid.NewGuid().ToString("N")[..8];
        using var syncA = new RedisRouteHealthSync(redisA, routerA, prefix);
        using var syncB = new RedisRouteHealthSync(redisB, routerB, prefix);
        await Task.WhenAll(syncA.Subscribed, syncB.Subscribed);

        // A meets a 429 with Retry-After on x: B, which never called x, skips it too.
        (await routerA.GetResponseAsync(Prompt())).Text.Should().Be("Hello from y");
        await Eventually.TrueAsync(() => routerB.Explain(Prompt()).Routes.Single(r => r.Route == "x").ExclusionReason?.StartsWith("asked to wait", StringComparison.Ordinal) == true, "B honours A's Retry-After");
        (await routerB.GetResponseAsync(Prompt())).Text.Should().Be("Hello from y");
        serversB[0].RequestCount.Should().Be(0);

        // A's circuit on z opens after two failures: B leaves z alone for the break.
        for (int i = 0; i < 2; i++)
        {
            await routerA.GetResponseAsync(Prompt(), new ChatOptions().WithRoute("z")).ContinueWith(_ => { });
        }

        routerA.GetRoute("z").Health.CircuitState.Should().Be(RouteCircuitState.Open);
        await Eventually.TrueAsync(() => routerB.Explain(Prompt()).Routes.Single(r => r.Route == "z").ExclusionReason is not null, "B holds z while A's circuit is open");

        // An operator drains y on A: B drains it too; restoring it on A restores it on B.
        routerA.DrainRoute("y");
        await Eventually.TrueAsync(() => routerB.GetRoute("y").Health.IsDrained, "B drained y");
        routerA.RestoreRoute("y");
        await Eventually.TrueAsync(() => !routerB.GetRoute("y").Health.IsDrained, "B restored y");

        // A signal for a route B does not have, or a garbled one, changes nothing.
        routerB.ApplyHealthSignal(new RouteHealthSignal("nope", RouteHealthSignalKind.Drained)).Should().BeFalse();
    }

    [RedisFact]
    public async Task UseRedis_shares_health_only_when_asked()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = "health-di-" + Guid.NewGuid().ToString("N")[..8];

        ServiceProvider Host(bool share)
        {
            var services = new ServiceCollection();
            services.AddInferenceRouter(r => r
                .AddRoute(new RouteDescriptor("a"), TestChatClient.Answering("a"))
                .AddRoute(new RouteDescriptor("b"), TestChatClient.Answering("b"))
                .UseRedis(o =>
                {
                    o.ConnectionString = server.ConnectionString;
                    o.ShareHealth = share;
                    o.Budgets.KeyPrefix = prefix;
                }));
            return services.BuildServiceProvider();
        }

        await using var first = Host(share: true);
        await using var second = Host(share: true);
        await using var apart = Host(share: false);
        var routers = new[] { first, second, apart }.Select(p => p.GetRequiredService<RouterChatClient>()).ToArray();
        await second.GetRequiredService<RedisInferenceRouterBuilderExtensions.RedisHealthSharing>().Subscribed;

        routers[0].DrainRoute("a");

        await Eventually.TrueAsync(() => routers[1].GetRoute("a").Health.IsDrained, "the second host drained a");
        (await second.GetRequiredService<IChatClient>().GetResponseAsync("Hi")).Text.Should().Be("b");
        routers[2].GetRoute("a").Health.IsDrained.Should().BeFalse("ShareHealth is off on this host");
    }

    [RedisFact]
    public async Task Disposing_after_the_connection_is_gone_does_not_throw()
    {
        await using var server = await RedisServer.StartAsync();
        var redis = await server.ConnectAsync();
        using var router = new RouterChatClient([Of("a", TestChatClient.Answering("a"))]);
        var sync = new RedisRouteHealthSync(redis, router);
        var store = new RedisCacheStore(redis);
        await Task.WhenAll(sync.Subscribed, store.Subscribed);

        // A container disposes in its own order: the connection may go first.
        await redis.DisposeAsync();

        FluentActions.Invoking(sync.Dispose).Should().NotThrow();
        FluentActions.Invoking(store.Dispose).Should().NotThrow();
    }
}
