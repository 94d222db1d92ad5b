using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Benchmarks;

/// <summary>Whole cache hits through <see cref="SemanticCacheChatClient"/>: the exact tier, and a semantic hit including embedding the question with all-MiniLM-L6-v2 (1,000 entries cached).</summary>
[MemoryDiagnoser]
[MedianColumn]
public class CacheHitBenchmarks
{
    private readonly List<ChatMessage> _exact = [new(ChatRole.User, "What is the capital of France?")];
    private readonly List<ChatMessage> _paraphrase = [new(ChatRole.User, "How do I learn Python quickly?")];
    private OnnxEmbeddingGenerator _generator = null!;
    private SemanticCacheChatClient _exactOnly = null!;
    private SemanticCacheChatClient _semantic = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _generator = new OnnxEmbeddingGenerator();
        _exactOnly = new SemanticCacheChatClient(new NoOpChatClient());
        await _exactOnly.GetResponseAsync(_exact);
        _semantic = new SemanticCacheChatClient(new NoOpChatClient(), _generator);
        await _semantic.GetResponseAsync([new ChatMessage(ChatRole.User, "How can I learn Python quickly?")]);
        for (int i = 0; i < 999; i++)
        {
            await _semantic.GetResponseAsync([new ChatMessage(ChatRole.User, $"What happened in the year {1000 + i} in country number {i % 50}?")]);
        }

        if ((await _semantic.GetResponseAsync(_paraphrase)).GetRoutingInfo()?.CacheHit != CacheTier.Semantic)
        {
            throw new InvalidOperationException("The paraphrase must be a semantic hit for this benchmark to mean anything.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _exactOnly.Dispose();
        _semantic.Dispose();
        _generator.Dispose();
    }

    [Benchmark(Description = "exact-tier hit")]
    public Task<ChatResponse> ExactHit() => _exactOnly.GetResponseAsync(_exact);

    [Benchmark(Description = "semantic hit incl. embedding")]
    public Task<ChatResponse> SemanticHit() => _semantic.GetResponseAsync(_paraphrase);
}
