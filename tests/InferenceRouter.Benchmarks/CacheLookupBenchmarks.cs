using BenchmarkDotNet.Attributes;
using InferenceRouter.Eval;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Benchmarks;

/// <summary>Semantic-tier index lookups (embedding excluded) at 1k, 10k and 100k entries × 384 dimensions: exact SIMD scan vs 1-bit pre-selection + exact re-rank.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class CacheLookupBenchmarks
{
    private const int Dimensions = 384;
    private VectorIndex _index = null!;
    private float[][] _queries = null!;
    private int _next;

    [Params(1_000, 10_000, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _index = new VectorIndex(Dimensions, Entries);
        var stored = new float[Entries][];
        for (int i = 0; i < Entries; i++)
        {
            stored[i] = RandomVectors.Normalized(random, Dimensions, null, 0);
            _index.Add("entry-" + i, stored[i]);
        }

        _queries = [.. Enumerable.Range(0, 64).Select(_ => RandomVectors.Normalized(random, Dimensions, stored[random.Next(Entries)], 0.7f))];
    }

    [Benchmark(Baseline = true, Description = "exact scan")]
    public string Exact()
    {
        _index.UseApproximation = false;
        return _index.Search(_queries[_next++ & 63])!.Value.Key;
    }

    [Benchmark(Description = "1-bit pre-selection + re-rank")]
    public string Approximate()
    {
        _index.UseApproximation = true;
        return _index.Search(_queries[_next++ & 63])!.Value.Key;
    }
}
