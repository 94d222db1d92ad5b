using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Routing;

/// <summary>What an attempt hook may change about an attempt, and what it may not.</summary>
public class AttemptHookTests
{
    private sealed class OutputLimitHook(int limit) : IRouteAttemptHook
    {
        public ValueTask<RouteAdmission> AdmitAsync(RouteAttemptContext attempt, CancellationToken cancellationToken) => new(RouteAdmission.Admit(null, limit));
    }

    [Theory]
    [InlineData(50, 1000, 50)]
    [InlineData(2000, 1000, 1000)]
    [InlineData(null, 1000, 1000)]
    public async Task A_hook_can_lower_the_callers_output_limit_but_never_raise_it(int? callers, int hooks, int sent)
    {
        var provider = TestChatClient.Answering("ok");
        using var router = new RouterChatClient([Of("only", provider)], attemptHooks: [new OutputLimitHook(hooks)]);

        await router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = callers });

        provider.ReceivedOptions.Single()!.MaxOutputTokens.Should().Be(sent);
    }

    private sealed class SlowHook(TimeSpan delay) : IRouteAttemptHook
    {
        public async ValueTask<RouteAdmission> AdmitAsync(RouteAttemptContext attempt, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, cancellationToken);
            return RouteAdmission.Admit(null);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_hook_slower_than_the_routers_timeouts_is_not_cut_short_by_them(bool streaming)
    {
        var provider = TestChatClient.Answering("ok");
        provider.GetStreamingResponseAsyncCallback = (_, _, _) => new[] { new ChatResponseUpdate(ChatRole.Assistant, "ok") { FinishReason = ChatFinishReason.Stop } }.ToAsyncEnumerable();
        using var router = new RouterChatClient(
            [Of("only", provider)],
            new RouterOptions { AttemptTimeout = TimeSpan.FromMilliseconds(200), TimeToFirstTokenTimeout = TimeSpan.FromMilliseconds(150) },
            attemptHooks: [new SlowHook(TimeSpan.FromMilliseconds(600))]);

        var answer = streaming ? await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync() : await router.GetResponseAsync(Prompt());

        answer.Text.Should().Be("ok", "the router's timeouts bound the provider's time, not an admission rule's");
    }
}
