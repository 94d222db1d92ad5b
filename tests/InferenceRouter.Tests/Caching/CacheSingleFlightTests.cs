using InferenceRouter.TestServer;

namespace InferenceRouter.Tests.Caching;

/// <summary>Issue 22 item 8: identical concurrent calls, streamed or not, ask the model once (real OpenAI SDK over loopback).</summary>
public class CacheSingleFlightTests
{
    private const string Question = "Summarise the release notes.";

    [Fact]
    public async Task Eight_identical_concurrent_streams_make_one_model_call()
    {
        await using var server = await FakeProviderServer.StartAsync(defaultBehavior: new ServerBehavior { Text = "One answer for all of you.", Latency = TimeSpan.FromMilliseconds(500), Chunks = 6 });
        using var cache = new SemanticCacheChatClient(server.CreateChatClient());

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => i % 2 == 0
            ? cache.GetStreamingResponseAsync(Question).ToChatResponseAsync()
            : cache.GetResponseAsync(Question)));

        server.RequestCount.Should().Be(1, "the first call leads; streamed and non-streamed followers replay its answer");
        answers.Select(a => a.Text).Should().AllBe("One answer for all of you.");
        answers.Count(a => a.GetRoutingInfo()?.CacheHit == CacheTier.Exact).Should().Be(7);
    }

    [Fact]
    public async Task A_cancelled_leader_does_not_poison_its_followers()
    {
        await using var server = await FakeProviderServer.StartAsync(defaultBehavior: new ServerBehavior { Text = "The full answer.", Chunks = 4 });
        server.Script = n => n == 1 ? new ServerBehavior { Text = "The leader's slow answer.", Chunks = 8, InterChunkDelay = TimeSpan.FromMilliseconds(300) } : server.DefaultBehavior;
        using var cache = new SemanticCacheChatClient(server.CreateChatClient());

        using var leaderCancellation = new CancellationTokenSource();
        var leader = Task.Run(async () =>
        {
            await foreach (var update in cache.GetStreamingResponseAsync(Question, cancellationToken: leaderCancellation.Token))
            {
                await leaderCancellation.CancelAsync(); // the leader's caller gives up after the first token
            }
        });
        await Eventually.TrueAsync(() => server.RequestCount == 1, "the leader's request reached the server");
        var followers = Enumerable.Range(0, 4).Select(i => i % 2 == 0 ? cache.GetStreamingResponseAsync(Question).ToChatResponseAsync() : cache.GetResponseAsync(Question)).ToList();

        await leader.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        var answers = await Task.WhenAll(followers);

        answers.Select(a => a.Text).Should().AllBe("The full answer.", "a follower of a leader that stored nothing asks the model itself");
        answers.Select(a => a.FinishReason).Should().AllBeEquivalentTo(ChatFinishReason.Stop);
        (await cache.GetResponseAsync(Question)).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact);
    }

    [Fact]
    public async Task A_follower_keeps_its_own_cancellation()
    {
        await using var server = await FakeProviderServer.StartAsync(defaultBehavior: new ServerBehavior { Text = "Worth the wait.", Latency = TimeSpan.FromSeconds(1) });
        using var cache = new SemanticCacheChatClient(server.CreateChatClient());

        var leader = cache.GetStreamingResponseAsync(Question).ToChatResponseAsync();
        await Eventually.TrueAsync(() => server.RequestCount == 1, "the leader's request reached the server");
        using var impatient = new CancellationTokenSource();
        var follower = cache.GetStreamingResponseAsync(Question, cancellationToken: impatient.Token).ToChatResponseAsync();
        await impatient.CancelAsync();

        await follower.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        (await leader).Text.Should().Be("Worth the wait.", "the follower's cancellation is its own");
        server.RequestCount.Should().Be(1);
    }
}
