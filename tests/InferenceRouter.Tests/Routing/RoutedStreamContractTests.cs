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
            // The provider's own rule about its updates throws (asked only of updates without a finish reason: not the last).
            int ruleFailsAt = count > 1 && random.Next(6) == 0 ? random.Next(count - 1) : -1;
            int errorEventAt = random.Next(6) == 0 ? random.Next(count) : -1; // an error event stamped with a finish reason
            bool[] pending = [.. Enumerable.Range(0, count).Select(_ => random.Next(2) == 0)];
            var provider = new ScriptedClient(count, failAt, ruleFailsAt, errorEventAt, pending);
            using var router = Router(Of("only", provider));
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
                    bool more;
                    try
                    {
                        more = await reader.MoveNextAsync();
                    }
                    catch
                    {
                        (await reader.MoveNextAsync()).Should().BeFalse("a stream that threw is over");
                        throw;
                    }

                    if (!more)
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

            string because = $"seed {seed} round {round}: {count} updates, fail at {failAt}, rule fails at {ruleFailsAt}, error event at {errorEventAt}, stop after {stopAfter}, cancel after {cancelAfter}";
            provider.Calls.Should().Be(1, because);
            provider.Disposals.Should().Be(1, because);
            router.GetRoute("only").Health.InFlight.Should().Be(0, because);
            var texts = received.Where(u => u.Text.Length > 0).Select(u => u.Text).ToList();
            texts.Should().Equal(Enumerable.Range(0, texts.Count).Select(i => "t" + i), because);
            if (sawEnd)
            {
                failAt.Should().Be(-1, because);
                ruleFailsAt.Should().Be(-1, because);
                errorEventAt.Should().Be(-1, because);
                texts.Should().HaveCount(count, because);
                received[^1].GetRoutingInfo()!.Route.Should().Be("only", because);
            }
            else if (thrown is not null)
            {
                (failAt >= 0 || ruleFailsAt >= 0 || errorEventAt >= 0 || cancelAfter <= count).Should().BeTrue($"{because}: only a failure or a cancellation throws, got {thrown}");
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

    /// <summary>
    /// A provider: "t0".."tn-1", each update at once or after a yield; optionally an error instead of update k, an error event stamped with
    /// a finish reason in place of update k, or its own stream-end rule throwing on update k. Counts its calls and its streams' closes.
    /// </summary>
    private sealed class ScriptedClient(int count, int failAt, int ruleFailsAt, int errorEventAt, bool[] pending) : IChatClient, IProviderFailureClassifier
    {
        public int Calls;
        public int Disposals;

        public bool ReportsStreamEnd => true;

        public bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification)
        {
            classification = default;
            return false;
        }

        public bool IsStreamEnd(ChatResponseUpdate update) =>
            ruleFailsAt >= 0 && update.Text == "t" + ruleFailsAt ? throw new InvalidCastException("the provider's rule has a bug") : update.FinishReason is not null;

        public bool TryReadErrorEvent(object? rawRepresentation, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProviderError? error) =>
            ProviderErrorEvent.TryRead(rawRepresentation, out error);

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            return Run(cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

        public void Dispose()
        {
        }

        private async IAsyncEnumerable<ChatResponseUpdate> Run([EnumeratorCancellation] CancellationToken token)
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

                    yield return i == errorEventAt
                        ? new ChatResponseUpdate { Role = ChatRole.Assistant, FinishReason = ChatFinishReason.Stop, RawRepresentation = """{"error":{"message":"overloaded","type":"server_error"}}""" }
                        : new ChatResponseUpdate(ChatRole.Assistant, "t" + i) { FinishReason = i == count - 1 ? ChatFinishReason.Stop : null };
                }
            }
            finally
            {
                Interlocked.Increment(ref Disposals);
            }
        }
    }
}
