using InferenceRouter.Eval;
using Xunit.Abstractions;

namespace InferenceRouter.Tests.Caching;

// Measures the whole heap (GC.GetTotalMemory): runs alone, so no other test's objects are counted.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementCollection
{
    public const string Name = "heap measurement";
}

/// <summary>
/// Issue 22 item 7: <see cref="SemanticCacheOptions.MaxBytes"/> bounds the real heap. Each case fills a cache well past its limit and
/// measures what it retains (GC.GetTotalMemory after a full collection, before and after). Tolerance: the retained heap is at most
/// 10% over MaxBytes (the bound holds), and at least 50% of it (the count is not so cautious that the limit means nothing).
/// </summary>
[Collection(HeapMeasurementCollection.Name)]
public class CacheMemoryTests(ITestOutputHelper output)
{
    private const long Limit = 4L * 1024 * 1024;

    [Theory]
    [InlineData("one conversation per entry", true, true, 200)]
    [InlineData("one conversation, many entries", true, false, 1_000)]
    [InlineData("exact tier only, long answers", false, false, 4_000)]
    public async Task The_retained_heap_stays_within_MaxBytes(string scenario, bool semantic, bool conversationPerEntry, int answerChars)
    {
        // The whole process's heap is read: work other tests left running (timers, abandoned calls finishing) can move one reading, so a
        // measurement outside the bounds is taken again, up to three times, each with a new cache; the bounds themselves are not loosened.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await MeasureAsync(scenario, semantic, conversationPerEntry, answerChars);
                return;
            }
            catch (Exception e) when (attempt < 3 && e.GetType().Name.Contains("Xunit", StringComparison.Ordinal))
            {
                output.WriteLine($"attempt {attempt} out of bounds, measuring again: {e.Message}");
            }
        }
    }

    private async Task MeasureAsync(string scenario, bool semantic, bool conversationPerEntry, int answerChars)
    {
        var model = new AnsweringClient(answerChars);
        using var cache = new SemanticCacheChatClient(model, semantic ? new SilentEmbeddingGenerator() : null, options: new SemanticCacheOptions { MaxEntries = 1_000_000, MaxBytes = Limit });
        await Ask(cache, 0, conversationPerEntry); // JIT, statics, the first index
        long before = RetainedHeap();

        int asked = 1;
        for (; asked < 200_000 && (((InMemoryCacheStore)cache.Store).Bytes < Limit * 9 / 10 || asked < 3 * cache.Store.Count); asked++)
        {
            await Ask(cache, asked, conversationPerEntry);
        }

        long retained = RetainedHeap() - before;
        GC.KeepAlive(cache);
        var store = (InMemoryCacheStore)cache.Store;
        output.WriteLine($"{scenario}: {asked} asked, {store.Count} kept, counted {store.Bytes:N0} B, retained {retained:N0} B ({(double)retained / Limit:P0} of MaxBytes), {retained / Math.Max(1, store.Count):N0} B per entry, {store.Bytes / Math.Max(1, store.Count):N0} counted");
        store.Count.Should().BeLessThan(asked, "the limit evicted entries");
        store.Bytes.Should().BeLessThanOrEqualTo(Limit);
        retained.Should().BeLessThanOrEqualTo(Limit * 11 / 10, "MaxBytes bounds the real heap");
        retained.Should().BeGreaterThanOrEqualTo(Limit / 2, "the count is close to the real heap");
    }

    private static Task<ChatResponse> Ask(SemanticCacheChatClient cache, int i, bool conversationPerEntry) => cache.GetResponseAsync(
        [new ChatMessage(ChatRole.System, conversationPerEntry ? $"Conversation {i}" : "You are a helpful assistant."), new ChatMessage(ChatRole.User, $"Question number {i}: what is {i} squared?")]);

    private static long RetainedHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>A model that answers each question with a new string of the given length (as an SDK would) and keeps nothing.</summary>
    private sealed class AnsweringClient(int chars) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, new string('a', chars))) { FinishReason = ChatFinishReason.Stop, ModelId = "test-model", Usage = new() { InputTokenCount = 10, OutputTokenCount = 20 } });

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>Random unit vectors of MiniLM's 384 dimensions, remembering nothing (the real model's vectors take the same bytes).</summary>
    private sealed class SilentEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly Random _random = new(7);

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(_ => new Embedding<float>(RandomVectors.Normalized(_random, 384)))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
