using System.Runtime.CompilerServices;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Routing;

/// <summary>
/// The router's own waits on a provider, whatever the provider's client does with its token: clients that ignore it cannot hang a
/// call, a stream that stops quietly after a cancellation is not an answer, the first-token timer never ends a stream it handed over,
/// and a custom route's streams are complete as it declares (<see cref="RouteDescriptor.RequireFinishReason"/>).
/// </summary>
public class ProviderWaitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_client_that_ignores_its_token_cannot_hang_a_call_and_its_abandoned_stream_is_closed_when_it_ends()
    {
        var release = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        int disposed = 0;
        var deaf = new TestChatClient
        {
            GetResponseAsyncCallback = async (_, _, _) =>
            {
                await release.Task; // never looks at its token
                throw new InvalidOperationException("deaf client: late failure");
            },
            GetStreamingResponseAsyncCallback = (_, options, _) => Deaf(release.Task, updatesFirst: options?.AdditionalProperties?["first"] is true ? 1 : 0, () => Interlocked.Increment(ref disposed)),
        };
        var options = new RouterOptions { TimeToFirstTokenTimeout = TimeSpan.FromMilliseconds(150), AttemptTimeout = TimeSpan.FromMilliseconds(400), CircuitBreaker = { Enabled = false } };
        using var router = new RouterChatClient([Of("deaf", deaf), Of("ok", TestChatClient.Answering("from ok"))], options);

        // Before the first update: the router's timeout ends the wait and fails over, streaming or not.
        var answer = await router.GetResponseAsync(Prompt()).WaitAsync(Bound);
        answer.Text.Should().Be("from ok");
        answer.GetRoutingInfo()!.Attempts[0].Should().Match<RouteAttempt>(a => a.Outcome == RouteAttemptOutcome.TimedOut && a.Error!.Message.Contains("AttemptTimeout (00:00:00.4000000)"));
        var streamed = await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync().WaitAsync(Bound);
        streamed.Text.Should().Be("from ok");
        streamed.GetRoutingInfo()!.Attempts[0].Error!.Message.Should().Contain("TimeToFirstTokenTimeout (00:00:00.1500000)");

        // After the first update: the caller gets it, then a timeout naming AttemptTimeout.
        var got = new List<string>();
        var error = await FluentActions.Awaiting(async () =>
        {
            await foreach (var update in router.GetStreamingResponseAsync(Prompt(), new ChatOptions { AdditionalProperties = new() { ["first"] = true } }).WithCancellation(default))
            {
                got.Add(update.Text);
            }
        }).Should().ThrowAsync<TimeoutException>();
        error.Which.Message.Should().Contain("AttemptTimeout (00:00:00.4000000)");
        string.Concat(got).Should().Be("first");
        error.Which.GetRoutingInfo()!.Attempts.Single().Outcome.Should().Be(RouteAttemptOutcome.TimedOut);

        // The caller's own cancellation, with no router timeout at all.
        using var noTimeouts = new RouterChatClient([Of("deaf", deaf)], new RouterOptions { CircuitBreaker = { Enabled = false } });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await FluentActions.Awaiting(() => noTimeouts.GetStreamingResponseAsync(Prompt(), cancellationToken: cancel.Token).ToListAsync().AsTask().WaitAsync(Bound))
            .Should().ThrowAsync<OperationCanceledException>();
        using var cancel2 = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await FluentActions.Awaiting(() => noTimeouts.GetResponseAsync(Prompt(), cancellationToken: cancel2.Token).WaitAsync(Bound)).Should().ThrowAsync<OperationCanceledException>();
        noTimeouts.GetRoute("deaf").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 2 && h.Failures == 0 && h.InFlight == 0);

        // The abandoned streams were left waiting; once their provider gives up, each is closed.
        disposed.Should().Be(0, "an enumerator is never disposed while its MoveNextAsync is pending");
        release.SetResult(true);
        await Eventually.TrueAsync(() => Volatile.Read(ref disposed) == 3, "every abandoned stream is disposed when its pending read ends");
    }

    [Fact]
    public async Task A_provider_answer_that_fails_after_the_router_gave_up_on_it_is_observed()
    {
        const string Marker = "late failure nobody waits for";
        int unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> watch = (_, e) =>
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message == Marker))
            {
                Interlocked.Increment(ref unobserved);
            }
        };
        TaskScheduler.UnobservedTaskException += watch;
        try
        {
            var releases = new List<TaskCompletionSource>();
            var deaf = new TestChatClient
            {
                GetResponseAsyncCallback = (_, _, _) =>
                {
                    var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    lock (releases)
                    {
                        releases.Add(release);
                    }

                    return Fail(release.Task);
                },
            };
            using var router = new RouterChatClient([Of("deaf", deaf), Of("ok", TestChatClient.Answering("ok"))], new RouterOptions { AttemptTimeout = TimeSpan.FromMilliseconds(50), CircuitBreaker = { Enabled = false } });
            for (int i = 0; i < 20; i++)
            {
                (await router.GetResponseAsync(Prompt()).WaitAsync(Bound)).Text.Should().Be("ok");
            }

            lock (releases)
            {
                releases.ForEach(r => r.SetResult());
            }

            await Eventually.TrueAsync(() => deaf.Calls == 20, "every call was made");
            await Task.Delay(200);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            unobserved.Should().Be(0);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= watch;
        }

        static async Task<ChatResponse> Fail(Task release)
        {
            await release;
            throw new InvalidOperationException(Marker);
        }
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task A_custom_route_s_stream_is_complete_as_the_route_declares(bool? requireFinishReason, bool failsWithoutOne)
    {
        var client = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => new[] { new ChatResponseUpdate(ChatRole.Assistant, "no finish reason") }.ToAsyncEnumerable() };
        using var router = new RouterChatClient([Of("custom", client, d => new RouteDescriptor("custom") { RequireFinishReason = requireFinishReason })]);

        var read = FluentActions.Awaiting(() => router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync());

        if (failsWithoutOne)
        {
            (await read.Should().ThrowAsync<InvalidResponseException>()).Which.Message.Should().Contain("cut off");
            router.GetRoute("custom").Health.GetSnapshot().Failures.Should().Be(1);
        }
        else
        {
            (await read()).Text.Should().Be("no finish reason", "a client that never reports a finish reason completes when its stream ends, unless the route requires one");
            router.GetRoute("custom").Health.GetSnapshot().Successes.Should().Be(1);
        }
    }

    [Fact]
    public async Task A_client_exposing_failure_rules_that_report_stream_ends_requires_them_by_default()
    {
        var client = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => new[] { new ChatResponseUpdate(ChatRole.Assistant, "cut") }.ToAsyncEnumerable() };
        using var router = new RouterChatClient([Of("sdk", client.WithFailureClassifier(new ReportsEnds()))]);

        await FluentActions.Awaiting(() => router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync()).Should().ThrowAsync<InvalidResponseException>();

        client.GetStreamingResponseAsyncCallback = (_, _, _) => new[] { new ChatResponseUpdate(ChatRole.Assistant, "whole") { FinishReason = ChatFinishReason.Stop } }.ToAsyncEnumerable();
        (await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync()).Text.Should().Be("whole");
    }

    [Fact]
    public async Task A_stream_that_stops_quietly_after_the_caller_cancelled_is_a_cancellation_not_an_answer()
    {
        // Some SDKs end their enumeration without throwing once their token is cancelled (OllamaSharp's reader does).
        var quiet = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, token) => QuietOnCancel(token) };
        using var router = new RouterChatClient([Of("quiet", quiet)]);
        using var cancel = new CancellationTokenSource();
        var got = new List<string>();

        var read = FluentActions.Awaiting(async () =>
        {
            await foreach (var update in router.GetStreamingResponseAsync(Prompt(), cancellationToken: cancel.Token))
            {
                got.Add(update.Text);
                cancel.CancelAfter(TimeSpan.FromMilliseconds(50)); // while the router waits for the next update
            }
        });

        await read.Should().ThrowAsync<OperationCanceledException>();
        string.Concat(got).Should().Be("word ");
        router.GetRoute("quiet").Health.GetSnapshot().Should().Match<RouteHealthSnapshot>(h => h.Cancellations == 1 && h.Successes == 0 && h.Failures == 0 && h.InFlight == 0);
    }

    [Fact]
    public async Task Near_its_deadline_the_first_token_timer_ends_the_attempt_before_the_hand_over_or_never()
    {
        // The first update comes within a few milliseconds of TimeToFirstTokenTimeout, the rest of the stream 30 ms later (so a timer
        // that fired late would still find the stream open); AttemptTimeout is long, so no other timeout can fire.
        var ttft = TimeSpan.FromMilliseconds(40);
        var near = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, token) => NearDeadline(ttft, token) };
        var options = new RouterOptions { TimeToFirstTokenTimeout = ttft, AttemptTimeout = TimeSpan.FromSeconds(20), CircuitBreaker = { Enabled = false } };
        using var router = new RouterChatClient([Of("near", near), Of("ok", TestChatClient.Answering("from ok"))], options);

        int handedOver = 0, timedOut = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 300), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
        {
            var updates = await router.GetStreamingResponseAsync(Prompt()).ToListAsync().AsTask().WaitAsync(Bound); // never throws: no mid-stream death
            var response = updates.ToChatResponse();
            var first = response.GetRoutingInfo()!.Attempts[0];
            if (first.Outcome == RouteAttemptOutcome.TimedOut)
            {
                Interlocked.Increment(ref timedOut);
                first.Error!.Message.Should().Contain("TimeToFirstTokenTimeout", "the timeout that fired is the one named");
                response.Text.Should().Be("from ok");
            }
            else
            {
                Interlocked.Increment(ref handedOver);
                response.Text.Should().Be("first, then the rest");
            }
        });

        (handedOver + timedOut).Should().Be(300);
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Deaf(Task release, int updatesFirst, Action disposed)
    {
        try
        {
            for (int i = 0; i < updatesFirst; i++)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, "first");
            }

            await release; // never looks at its token
            yield return new ChatResponseUpdate(ChatRole.Assistant, "late") { FinishReason = ChatFinishReason.Stop };
        }
        finally
        {
            disposed();
        }
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> QuietOnCancel([EnumeratorCancellation] CancellationToken token)
    {
        yield return new ChatResponseUpdate(ChatRole.Assistant, "word ");
        try
        {
            await Task.Delay(Timeout.Infinite, token);
        }
        catch (OperationCanceledException)
        {
            // and ends, quietly, as if it had finished
        }
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> NearDeadline(TimeSpan ttft, [EnumeratorCancellation] CancellationToken token)
    {
        await Task.Delay(ttft + TimeSpan.FromMilliseconds(Random.Shared.Next(-6, 4)), token);
        yield return new ChatResponseUpdate(ChatRole.Assistant, "first");
        await Task.Delay(30, token);
        yield return new ChatResponseUpdate(ChatRole.Assistant, ", then the rest") { FinishReason = ChatFinishReason.Stop };
    }

    /// <summary>Failure rules of an SDK whose streams always say when they are complete.</summary>
    private sealed class ReportsEnds : IProviderFailureClassifier
    {
        public bool ReportsStreamEnd => true;

        public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
        {
            classification = default;
            return false;
        }
    }
}
