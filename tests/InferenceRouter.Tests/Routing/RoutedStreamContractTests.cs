using System.Runtime.CompilerServices;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Xunit;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Routing;

/// <summary>
/// The router's stream keeps the contract of an async iterator whatever its provider and its reader do: updates in order, the provider's
/// stream closed exactly once, the attempt's bookkeeping done once (nothing left in flight), a stream enumerated twice is two calls, a
/// token given to <c>WithCancellation</c> cancels it, nothing is read after the end or a failure.
/// </summary>
public sealed class RoutedStreamContractTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_providers_and_readers_keep_the_iterator_contract(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 150; round++)
        {
            int count = random.Next(1, 12);
            int failAt = random.Next(4) == 0 ? random.Next(count) : -1;
            bool[] pending = [.. Enumerable.Range(0, count).Select(_ => random.Next(2) == 0)];
            var provider = new ScriptedStream(count, failAt, pending);
            var client = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, token) => provider.Run(token) };
            using var router = Router(Of("only", client));
            int stopAfter = random.Next(3) == 0 ? random.Next(1, count + 2) : int.MaxValue;
            using var cts = new CancellationTokenSource();
            int cancelAfter = random.Next(4) == 0 ? random.Next(1, count + 1) : int.MaxValue;
            bool viaEnumerator = random.Next(2) == 0;
            var stream = viaEnumerator ? router.GetStreamingResponseAsync(Prompt()) : router.GetStreamingResponseAsync(Prompt(), cancellationToken: cts.Token);
            var received = new List<ChatResponseUpdate>();
            Exception? thrown = null;
            bool sawEnd = false;
            try
            {
                await using var reader = (viaEnumerator ? stream.WithCancellation(cts.Token) : stream.WithCancellation(default)).GetAsyncEnumerator();
                while (received.Count < stopAfter)
                {
                    if (!await reader.MoveNextAsync())
                    {
                        sawEnd = true;
                        (await reader.MoveNextAsync()).Should().BeFalse("nothing is read after the end");
                        break;
                    }

                    received.Add(reader.Current);
                    if (received.Count == cancelAfter)
                    {
                        await cts.CancelAsync();
                    }
                }
            }
            catch (Exception e)
            {
                thrown = e;
            }

            string because = $"seed {seed} round {round}: {count} updates, fail at {failAt}, stop after {stopAfter}, cancel after {cancelAfter}";
            provider.Disposals.Should().Be(1, because);
            router.GetRoute("only").Health.InFlight.Should().Be(0, because);
            var texts = received.Where(u => u.Text.Length > 0).Select(u => u.Text).ToList();
            texts.Should().Equal(Enumerable.Range(0, texts.Count).Select(i => "t" + i), because);
            if (sawEnd)
            {
                failAt.Should().Be(-1, because);
                texts.Should().HaveCount(count, because);
                received[^1].GetRoutingInfo()!.Route.Should().Be("only", because);
            }
            else if (thrown is not null)
            {
                (failAt >= 0 || cancelAfter <= count).Should().BeTrue($"{because}: only a failure or a cancellation throws, got {thrown}");
            }
        }
    }

    [Fact]
    public async Task A_stream_enumerated_twice_is_two_calls_and_one_never_read_is_none()
    {
        var finishing = new TestChatClient
        {
            GetStreamingResponseAsyncCallback = (_, _, _) => new[] { new ChatResponseUpdate(ChatRole.Assistant, "hi") { FinishReason = ChatFinishReason.Stop } }.ToAsyncEnumerable(),
        };
        using var router = Router(Of("only", finishing));
        var stream = router.GetStreamingResponseAsync(Prompt());
        await using (stream.GetAsyncEnumerator())
        {
        }

        finishing.Calls.Should().Be(0, "a stream never read makes no call");
        (await stream.ToChatResponseAsync()).Text.Should().Be("hi");
        (await stream.ToChatResponseAsync()).Text.Should().Be("hi");
        finishing.Calls.Should().Be(2);
        router.GetRoute("only").Health.InFlight.Should().Be(0);
    }

    /// <summary>A provider stream: "t0".."tn-1", each update at once or after a yield, optionally an error instead of update k; counts its disposals.</summary>
    private sealed class ScriptedStream(int count, int failAt, bool[] pending)
    {
        public int Disposals;

        public async IAsyncEnumerable<ChatResponseUpdate> Run([EnumeratorCancellation] CancellationToken token)
        {
            try
            {
                for (int i = 0; i < count; i++)
                {
                    if (pending[i])
                    {
                        await Task.Yield();
                    }

                    token.ThrowIfCancellationRequested();
                    if (i == failAt)
                    {
                        throw new HttpRequestException("connection reset");
                    }

                    yield return new ChatResponseUpdate(ChatRole.Assistant, "t" + i) { FinishReason = i == count - 1 ? ChatFinishReason.Stop : null };
                }
            }
            finally
            {
                Interlocked.Increment(ref Disposals);
            }
        }
    }
}
