using Xunit.Abstractions;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Quotas;

/// <summary>What a quota adds to a call, in bytes (deterministic: measured, never timed).</summary>
public class QuotaAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_quota_adds_a_bounded_number_of_bytes_per_call_and_a_route_without_one_adds_none()
    {
        long none = await BytesPerCall(null);
        long requests = await BytesPerCall(new RouteQuota { RequestsPerMinute = int.MaxValue });
        long all = await BytesPerCall(new RouteQuota { RequestsPerMinute = int.MaxValue, TokensPerMinute = int.MaxValue, MaxConcurrency = 1_000 });
        long noneAgain = await BytesPerCall(null);
        output.WriteLine($"per call: no quota {none} B, requests only {requests} B (+{requests - none}), requests + tokens + concurrency {all} B (+{all - none})");

        noneAgain.Should().Be(none, "a router whose routes have no quota runs no quota code");
        (requests - none).Should().BeLessThanOrEqualTo(RequestsOnlyBound);
        (all - none).Should().BeLessThanOrEqualTo(AllLimitsBound);
    }

    /// <summary>Measured: +64 B (the attempt's report its observer is told with); with headroom.</summary>
    private const long RequestsOnlyBound = 128;

    /// <summary>Measured: +152 B (the report, the reservation, the concurrency limiter's lease); with headroom.</summary>
    private const long AllLimitsBound = 256;

    private static async Task<long> BytesPerCall(RouteQuota? quota)
    {
        var answer = new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 1 } };
        var provider = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(answer) };
        using var router = new RouterChatClient([Of("r", provider, d => new RouteDescriptor(d.Name) { ModelId = d.ModelId, Capabilities = d.Capabilities, Quota = quota })]);
        var prompt = Prompt("What is the capital of France?");
        for (int i = 0; i < 200; i++)
        {
            await router.GetResponseAsync(prompt); // warm up (JIT, tiering, pools)
        }

        const int Calls = 2_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            await router.GetResponseAsync(prompt); // completes synchronously: every byte is this thread's
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / Calls;
    }
}
