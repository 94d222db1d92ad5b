using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Eval;

/// <summary>Precision and recall of the semantic cache on labelled question pairs.</summary>
/// <param name="Setting">The settings evaluated.</param>
/// <param name="Hits">Queries answered from the cache.</param>
/// <param name="Correct">Hits whose cached question is a duplicate of the query (by the pair labels, taken transitively).</param>
/// <param name="OwnPairCorrect">Hits that returned the query's own labelled duplicate.</param>
/// <param name="Duplicates">Queries that have a duplicate in the cache.</param>
/// <param name="HitLatencyP50">Median time of a hit through the client (embedding included).</param>
public sealed record CacheScore(string Setting, int Hits, int Correct, int OwnPairCorrect, int Duplicates, TimeSpan HitLatencyP50)
{
    public double Precision => Hits == 0 ? 0 : (double)Correct / Hits;

    public double Recall => Duplicates == 0 ? 0 : (double)Correct / Duplicates;

    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    public double StrictPrecision => Hits == 0 ? 0 : (double)OwnPairCorrect / Hits;

    public double StrictRecall => Duplicates == 0 ? 0 : (double)OwnPairCorrect / Duplicates;
}

/// <summary>Fills a cache with every first question (answer = its index) and queries it with every second one.</summary>
public static class CacheEvaluation
{
    /// <param name="feedback">Report every wrong hit as unhelpful as it happens (a user's thumbs-down), so entries learn their own thresholds.</param>
    public static async Task<CacheScore> RunAsync(IReadOnlyList<QuestionPair> pairs, IEmbeddingGenerator<string, Embedding<float>> generator, SemanticCacheOptions options, string setting, bool feedback = false)
    {
        var answers = new TestAnswers(pairs);
        using var cache = new SemanticCacheChatClient(answers, generator, new InMemoryCacheStore(pairs.Count + 1), options);
        for (int i = 0; i < pairs.Count; i++)
        {
            await cache.GetResponseAsync([new ChatMessage(ChatRole.User, pairs[i].First)], new ChatOptions().NoCache());
        }

        var clusters = Clusters(pairs);
        int hits = 0, correct = 0, own = 0;
        var latencies = new List<double>();
        for (int i = 0; i < pairs.Count; i++)
        {
            long started = Stopwatch.GetTimestamp();
            var response = await cache.GetResponseAsync([new ChatMessage(ChatRole.User, pairs[i].Second)], new ChatOptions().NoStore());
            if (response.GetRoutingInfo()?.CacheHit is null)
            {
                continue;
            }

            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            hits++;
            int answered = int.Parse(response.Text, System.Globalization.CultureInfo.InvariantCulture);
            if (clusters.Find(Key(pairs[answered].First)) == clusters.Find(Key(pairs[i].Second)))
            {
                correct++;
            }
            else if (feedback)
            {
                await cache.ReportOutcomeAsync(response.GetRoutingInfo()!, helpful: false);
            }

            if (pairs[i].IsDuplicate && Key(pairs[answered].First) == Key(pairs[i].First))
            {
                own++;
            }
        }

        latencies.Sort();
        var p50 = latencies.Count == 0 ? TimeSpan.Zero : TimeSpan.FromMicroseconds(latencies[latencies.Count / 2]);
        return new CacheScore(setting, hits, correct, own, pairs.Count(p => p.IsDuplicate), p50);
    }

    /// <summary>Duplicate clusters: questions linked by duplicate labels, transitively (QQP repeats questions across pairs).</summary>
    private static UnionFind Clusters(IReadOnlyList<QuestionPair> pairs)
    {
        var clusters = new UnionFind();
        foreach (var pair in pairs)
        {
            clusters.Find(Key(pair.First));
            clusters.Find(Key(pair.Second));
            if (pair.IsDuplicate)
            {
                clusters.Union(Key(pair.First), Key(pair.Second));
            }
        }

        return clusters;
    }

    private static string Key(string question) => CacheRequestText(question).ToLowerInvariant();

    private static string CacheRequestText(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Answers a first question with its index (so a hit says which question it came from), anything else with -1.</summary>
    private sealed class TestAnswers(IReadOnlyList<QuestionPair> pairs) : IChatClient
    {
        private readonly Dictionary<string, int> _index = pairs.Select((p, i) => (p.First, i)).DistinctBy(p => p.First).ToDictionary(p => p.First, p => p.i);

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, (_index.TryGetValue(messages.Last().Text, out var i) ? i : -1).ToString(System.Globalization.CultureInfo.InvariantCulture))) { FinishReason = ChatFinishReason.Stop });

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class UnionFind
    {
        private readonly Dictionary<string, string> _parent = new(StringComparer.Ordinal);

        public string Find(string x)
        {
            if (!_parent.TryGetValue(x, out var parent))
            {
                _parent[x] = x;
                return x;
            }

            if (parent == x)
            {
                return x;
            }

            var root = Find(parent);
            _parent[x] = root;
            return root;
        }

        public void Union(string a, string b) => _parent[Find(a)] = Find(b);
    }
}
