using Xunit.Abstractions;

namespace InferenceRouter.Tests.Caching;

/// <summary>The exact-hit path stays allocation-lean: bytes per hit are deterministic, so they are measured, never timed.</summary>
public class ExactHitAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_exact_hit_allocates_a_bounded_number_of_bytes()
    {
        var answer = new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { FinishReason = ChatFinishReason.Stop, Usage = new UsageDetails { InputTokenCount = 14, OutputTokenCount = 1 } };
        using var cache = new SemanticCacheChatClient(new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(answer) });
        List<ChatMessage> question = [new(ChatRole.User, "What is the capital of France?")];
        await cache.GetResponseAsync(question);
        for (int i = 0; i < 100; i++)
        {
            (await cache.GetResponseAsync(question)).GetRoutingInfo()!.CacheHit.Should().Be(CacheTier.Exact); // warm up (JIT, tiering)
        }

        const int Hits = 1_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Hits; i++)
        {
            await cache.GetResponseAsync(question); // completes synchronously: every byte is this thread's
        }

        long perHit = (GC.GetAllocatedBytesForCurrentThread() - before) / Hits;
        output.WriteLine($"exact hit: {perHit} bytes allocated");
        perHit.Should().BeLessThanOrEqualTo(ExactHitBytesBound);
    }

    /// <summary>Measured: 1,888 bytes per hit before issue 22, 1,664 after (the question is no longer copied to collapse its whitespace); with headroom.</summary>
    private const long ExactHitBytesBound = 2_048;
}
