using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceRouter.Tests.Redis;

/// <summary>Issue 22 item 7: under <c>UseRedis()</c> the cache's MaxEntries and MaxBytes bound the local copy too (real redis-server).</summary>
public class RedisCacheLocalCopyTests
{
    [RedisTheory]
    [InlineData(80_000)]
    [InlineData(2_000)]
    public async Task The_local_copy_holds_no_more_than_the_caches_limits(int answerChars)
    {
        await using var server = await RedisServer.StartAsync();
        var model = new TestChatClient
        {
            GetResponseAsyncCallback = (m, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, new string('x', answerChars - 20) + m.Last().Text[..20])) { FinishReason = ChatFinishReason.Stop }),
        };
        var services = new ServiceCollection();
        services.AddInferenceRouter(r => r.AddRoute(new RouteDescriptor("only"), model).UseRedis(o => o.ConnectionString = server.ConnectionString))
            .UseSemanticCache(o => (o.MaxEntries, o.MaxBytes) = (50, 64 * 1024));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();
        var store = (RedisCacheStore)provider.GetRequiredService<ICacheStore>();

        for (int i = 0; i < 300; i++)
        {
            await client.GetResponseAsync($"Question {i:D6} of many: what is new?");
            store.Count.Should().BeLessThanOrEqualTo(50);
            store.LocalBytes.Should().BeLessThanOrEqualTo(64 * 1024);
        }

        // Evicted locally, still shared: an entry this instance no longer holds is read back from Redis.
        var again = await client.GetResponseAsync("Question 000000 of many: what is new?");
        again.GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
        model.Calls.Should().Be(300);
    }
}
