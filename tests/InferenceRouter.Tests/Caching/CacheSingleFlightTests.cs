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

    [Fact]
    public async Task A_leader_that_stops_reading_without_disposing_never_holds_its_followers()
    {
        await using var server = await FakeProviderServer.StartAsync(defaultBehavior: new ServerBehavior { Text = "One answer for all of you.", Chunks = 6 });
        using var cache = new SemanticCacheChatClient(server.CreateChatClient());

        // The leader's reader takes the first token and walks away (a closed tab, an abandoned request): no DisposeAsync, ever.
        var abandoned = cache.GetStreamingResponseAsync(Question).GetAsyncEnumerator();
        (await abandoned.MoveNextAsync()).Should().BeTrue();
        var followers = new[] { cache.GetResponseAsync(Question), cache.GetStreamingResponseAsync(Question).ToChatResponseAsync() };

        // Not a timing assertion: a guard so that a follower held forever fails the test instead of hanging the run.
        var answers = await Task.WhenAll(followers).WaitAsync(TimeSpan.FromSeconds(60));

        answers.Select(a => a.Text).Should().AllBe("One answer for all of you.");
        answers.Select(a => a.GetRoutingInfo()?.CacheHit).Should().AllBeEquivalentTo(CacheTier.Exact, "the leader's answer was complete and stored");
        server.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task Followers_are_released_when_the_answer_is_complete_not_when_the_leader_has_read_it()
    {
        await using var server = await FakeProviderServer.StartAsync(defaultBehavior: new ServerBehavior { Text = "Read at the reader's pace.", Chunks = 5 });
        using var cache = new SemanticCacheChatClient(server.CreateChatClient());
        var readOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leaderRead = new List<ChatResponseUpdate>();
        var leader = Task.Run(async () =>
        {
            await foreach (var update in cache.GetStreamingResponseAsync(Question))
            {
                leaderRead.Add(update);
                await readOn.Task; // a slow reader: it reads on only once the followers have their answers
            }
        });
        await Eventually.TrueAsync(() => leaderRead.Count == 1, "the leader read its first update");

        var answers = await Task.WhenAll(cache.GetResponseAsync(Question), cache.GetStreamingResponseAsync(Question).ToChatResponseAsync()).WaitAsync(TimeSpan.FromSeconds(60));
        readOn.SetResult();
        await leader;

        answers.Select(a => a.Text).Should().AllBe("Read at the reader's pace.");
        leaderRead.ToChatResponse().Text.Should().Be("Read at the reader's pace.", "the leader's reader still gets the whole stream, in order");
        leaderRead.ToChatResponse().FinishReason.Should().Be(ChatFinishReason.Stop);
        server.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task A_leader_that_disposes_early_stops_its_model_call_and_followers_call_themselves()
    {
        await using var server = await FakeProviderServer.StartAsync(defaultBehavior: new ServerBehavior { Text = "The full answer.", Chunks = 4 });
        server.Script = n => n == 1 ? new ServerBehavior { Text = "The leader's slow answer.", Chunks = 8, InterChunkDelay = TimeSpan.FromMilliseconds(300) } : server.DefaultBehavior;
        using var cache = new SemanticCacheChatClient(server.CreateChatClient());

        await using (var leader = cache.GetStreamingResponseAsync(Question).GetAsyncEnumerator())
        {
            (await leader.MoveNextAsync()).Should().BeTrue();
        }

        (await cache.GetResponseAsync(Question)).Text.Should().Be("The full answer.", "nothing was stored for the cut stream");
        server.RequestCount.Should().Be(2);
    }
}
