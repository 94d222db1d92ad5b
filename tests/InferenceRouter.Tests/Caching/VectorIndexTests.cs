using InferenceRouter.Eval;

namespace InferenceRouter.Tests.Caching;

public class VectorIndexTests
{
    [Fact]
    public void The_approximate_scan_finds_the_exact_nearest_neighbour_at_least_99_percent_of_the_time()
    {
        const int count = 20_000, dims = 384;
        var random = new Random(42);
        var index = new VectorIndex(dims);
        var vectors = new float[count][];
        for (int i = 0; i < count; i++)
        {
            vectors[i] = RandomVectors.Normalized(random, dims);
            index.Add("k" + i, vectors[i]);
        }

        int agree = 0, queries = 500;
        for (int q = 0; q < queries; q++)
        {
            // A paraphrase-like query: near one stored vector (cosine ≈ 0.8), so "nearest" is well defined.
            var query = RandomVectors.Normalized(random, dims, vectors[random.Next(count)], 0.7f);
            index.UseApproximation = true;
            var approximate = index.Search(query)!.Value;
            index.UseApproximation = false;
            var exact = index.Search(query)!.Value;
            agree += approximate.Key == exact.Key ? 1 : 0;
            approximate.Similarity.Should().BeLessThanOrEqualTo(exact.Similarity + 1e-6f);
        }

        ((double)agree / queries).Should().BeGreaterThanOrEqualTo(0.99);
    }

    [Fact]
    public void Removed_vectors_are_not_found_and_their_slots_are_reused()
    {
        var index = new VectorIndex(4);
        index.Add("a", [1, 0, 0, 0]);
        index.Add("b", [0, 1, 0, 0]);
        index.Remove("a").Should().BeTrue();
        index.Search([1, 0, 0, 0])!.Value.Key.Should().Be("b");
        index.Add("c", [0.6f, 0.8f, 0, 0]);
        index.Count.Should().Be(2);
        var match = index.Search([1, 0, 0, 0])!.Value;
        match.Key.Should().Be("c");
        match.RunnerUpSimilarity.Should().Be(0f);
    }
}
