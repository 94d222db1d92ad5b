using System.Runtime.CompilerServices;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Routing;

/// <summary>What the router guarantees whatever policy orders the candidates: on-device calls stay on the device, waiting routes wait.</summary>
public class RouterInvariantTests
{
    /// <summary>Policies of every shape a user may write: none of them mention on-device calls or health.</summary>
    public static TheoryData<string> PolicyShapes() => ["empty", "ranker-only", "tag+latency", "prefers-remote", "excludes-local", "every-built-in-ranker"];

    private static IRoutingPolicy CreatePolicy(string shape) => shape switch
    {
        "empty" => new CompositeRoutingPolicy("x"),
        "ranker-only" => new CompositeRoutingPolicy("x", new LowestCostRanker()),
        "tag+latency" => new CompositeRoutingPolicy("x", new TagFilter(), new LowestLatencyRanker(0.5)),
        "prefers-remote" => new DelegatePolicy("x", s =>
        {
            for (int i = 0; i < s.Count; i++)
            {
                s.SetScore(i, new DelegatePolicy("x", _ => { }), s.Routes[i].Descriptor.IsLocal ? 1e9 : double.NegativeInfinity);
            }
        }),
        "excludes-local" => new DelegatePolicy("x", s =>
        {
            for (int i = 0; i < s.Count; i++)
            {
                if (s.Routes[i].Descriptor.IsLocal)
                {
                    s.Exclude(i, new DelegatePolicy("x", _ => { }), "custom: no local");
                }
            }
        }),
        _ => new CompositeRoutingPolicy("x", new WeightedRandomRanker(), new PowerOfTwoChoicesRanker(), new LeastInFlightRanker(), new PriorityRanker()),
    };

    [Theory]
    [MemberData(nameof(PolicyShapes))]
    public async Task A_call_kept_on_the_device_never_reaches_a_remote_route_whatever_the_policy(string shape)
    {
        var cloud = TestChatClient.Answering("from the cloud");
        cloud.GetStreamingResponseAsyncCallback = (_, _, _) => Stream("from the cloud");
        var device = TestChatClient.Answering("from the device");
        device.GetStreamingResponseAsyncCallback = (_, _, _) => Stream("from the device");
        var policy = CreatePolicy(shape);
        foreach (var hedging in new TimeSpan?[] { null, TimeSpan.FromMilliseconds(1) })
        {
            using var router = new RouterChatClient(
                [Of("cloud", cloud), Of("device", device, d => new RouteDescriptor(d.Name) { ModelId = d.ModelId, Capabilities = d.Capabilities, IsLocal = true })],
                new RouterOptions { DefaultPolicy = "x", HedgingDelay = hedging }, [policy]);
            var options = new ChatOptions().KeepOnDevice();

            for (int i = 0; i < 20; i++)
            {
                var task = i % 2 == 0
                    ? router.GetResponseAsync(Prompt(), options)
                    : router.GetStreamingResponseAsync(Prompt(), options).ToChatResponseAsync();
                try
                {
                    var response = await task;
                    response.Text.Should().Be("from the device");
                }
                catch (AllRoutesFailedException) when (shape == "excludes-local")
                {
                    // The policy excluded the only route the call may use: failing is right, going to the cloud is not.
                }
            }

            using (RoutingScope.Begin(new RoutingHints { LocalOnly = true }))
            {
                var act = () => router.GetResponseAsync(Prompt(), new ChatOptions().WithPolicy("x"));
                if (shape == "excludes-local")
                {
                    await act.Should().ThrowAsync<AllRoutesFailedException>();
                }
                else
                {
                    (await act()).Text.Should().Be("from the device");
                }
            }
        }

        cloud.Calls.Should().Be(0);
    }

    [Theory]
    [MemberData(nameof(PolicyShapes))]
    public async Task A_route_asked_to_wait_is_not_called_until_its_time_whatever_the_policy(string shape)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var waiting = TestChatClient.Answering("from the waiting route");
        var other = TestChatClient.Answering("from the other");
        using var router = new RouterChatClient(
            [Of("waiting", waiting), Of("other", other)], new RouterOptions { DefaultPolicy = "x" }, [CreatePolicy(shape)], timeProvider: time);
        router.GetRoute("waiting").Health.SetRetryAfter(time.GetUtcNow() + TimeSpan.FromSeconds(30));

        for (int i = 0; i < 10; i++)
        {
            (await router.GetResponseAsync(Prompt())).Text.Should().Be("from the other");
        }

        waiting.Calls.Should().Be(0);
        router.Explain(Prompt()).Routes.Single(r => r.Route == "waiting").ExclusionReason.Should().Contain("wait");

        time.Advance(TimeSpan.FromSeconds(31));
        for (int i = 0; i < 10; i++)
        {
            await router.GetResponseAsync(Prompt());
        }

        waiting.Calls.Should().BeGreaterThan(0, "the wait is over");
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Stream(string text, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        yield return new ChatResponseUpdate(ChatRole.Assistant, text);
    }

    private sealed class DelegatePolicy(string name, Action<RouteSelection> apply) : IRoutingPolicy
    {
        public string Name => name;

        public void Apply(RouteSelection selection) => apply(selection);
    }
}
