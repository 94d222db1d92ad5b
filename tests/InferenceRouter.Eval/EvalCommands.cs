using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Eval;

/// <summary>The evaluation tool's commands.</summary>
public static class EvalCommands
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: eval sts --file <stsb.csv> | cache --pairs <pairs.csv> [--sweep] [--feedback] [--limit N] | cache --mock <mock.json> | index --pairs <pairs.csv> | routing --train <dir|csv>... --test <dir|csv>... | routing --data <dir> --split warm|cold | routing-prior --data <dir|csv>... --out <json>");
            return 2;
        }

        switch (args[0])
        {
            case "sts":
                using (var generator = new OnnxEmbeddingGenerator())
                {
                    var started = Stopwatch.GetTimestamp();
                    var spearman = await StsSpearmanAsync(generator, Option(args, "--file") ?? throw new ArgumentException("sts needs --file <csv>"));
                    Console.WriteLine($"STS-B Spearman {spearman:F4} ({Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s)");
                }

                return 0;
            case "cache":
                return await CacheCommandAsync(args);
            case "index":
                return await IndexRecallAsync(args);
            case "routing-prior":
                return await QualityPriorTraining.RunAsync(args);
            case "routing":
                return await RoutingEvaluation.RunAsync(args);
            default:
                Console.Error.WriteLine($"unknown command '{args[0]}'");
                return 2;
        }
    }

    /// <summary>Spearman correlation between the embeddings' cosine and the human scores.</summary>
    public static async Task<double> StsSpearmanAsync(IEmbeddingGenerator<string, Embedding<float>> generator, string path)
    {
        var pairs = Datasets.LoadSts(path);
        var first = await generator.GenerateAsync(pairs.Select(p => p.First));
        var second = await generator.GenerateAsync(pairs.Select(p => p.Second));
        var cosines = pairs.Select((_, i) => (double)TensorPrimitives.CosineSimilarity(first[i].Vector.Span, second[i].Vector.Span)).ToList();
        return Statistics.Spearman(cosines, [.. pairs.Select(p => p.Score)]);
    }

    private static async Task<int> CacheCommandAsync(string[] args)
    {
        using var onnx = new OnnxEmbeddingGenerator();
        var generator = new PrecomputedEmbeddingGenerator(onnx);
        if (Option(args, "--mock") is { } mockPath)
        {
            var mock = Datasets.LoadMock(mockPath);
            await generator.PrepareAsync(mock.SelectMany(p => new[] { p.First, p.Second }));
            var score = await CacheEvaluation.RunAsync(mock, generator, new SemanticCacheOptions(), "default");
            Console.WriteLine($"GPTCache mock pairs ({mock.Count}): correct {score.OwnPairCorrect}, wrong {score.Hits - score.OwnPairCorrect}, missed {mock.Count - score.Hits}; hit p50 {score.HitLatencyP50.TotalMilliseconds:F2} ms");
            return 0;
        }

        var pairs = Datasets.LoadPairs(Option(args, "--pairs") ?? throw new ArgumentException("cache needs --pairs <csv> or --mock <json>"));
        if (Option(args, "--limit") is { } limit)
        {
            pairs = [.. pairs.Take(int.Parse(limit, System.Globalization.CultureInfo.InvariantCulture))];
        }

        var started = Stopwatch.GetTimestamp();
        await generator.PrepareAsync(pairs.SelectMany(p => new[] { CacheText(p.First), CacheText(p.Second) }));
        Console.WriteLine($"embedded {pairs.Count * 2} questions in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
        var settings = args.Contains("--sweep") ? Sweep() : [("default", new SemanticCacheOptions())];
        Console.WriteLine($"{"setting",-44} {"hits",6} {"precision",9} {"recall",7} {"F1",6} {"strict P",9} {"strict R",9} {"hit p50",9}");
        bool feedback = args.Contains("--feedback");
        foreach (var (name, options) in settings)
        {
            var score = await CacheEvaluation.RunAsync(pairs, generator, options, name + (feedback ? " + feedback" : string.Empty), feedback);
            Console.WriteLine($"{score.Setting,-44} {score.Hits,6} {score.Precision,9:F3} {score.Recall,7:F3} {score.F1,6:F3} {score.StrictPrecision,9:F3} {score.StrictRecall,9:F3} {score.HitLatencyP50.TotalMilliseconds,6:F2} ms");
        }

        return 0;
    }

    /// <summary>Recall@1 of the 1-bit pre-selection against the exact scan, on real question embeddings (first questions stored, second ones asked).</summary>
    private static async Task<int> IndexRecallAsync(string[] args)
    {
        var pairs = Datasets.LoadPairs(Option(args, "--pairs") ?? throw new ArgumentException("index needs --pairs <csv>"));
        using var onnx = new OnnxEmbeddingGenerator();
        var stored = (await onnx.GenerateAsync(pairs.Select(p => p.First))).Select(e => e.Vector).ToList();
        var queries = (await onnx.GenerateAsync(pairs.Select(p => p.Second))).Select(e => e.Vector).ToList();
        foreach (var candidates in new[] { 32, 64, 128, 256 })
        {
            var index = new VectorIndex(onnx.Dimensions, pairs.Count, candidates);
            for (int i = 0; i < stored.Count; i++)
            {
                index.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), stored[i].Span);
            }

            int agree = 0;
            foreach (var query in queries)
            {
                index.UseApproximation = true;
                var approximate = index.Search(query.Span)!.Value;
                index.UseApproximation = false;
                var exact = index.Search(query.Span)!.Value;
                agree += approximate.Key == exact.Key || Math.Abs(approximate.Similarity - exact.Similarity) < 1e-6f ? 1 : 0; // ties: repeated questions
            }

            Console.WriteLine($"index recall@1 of the 1-bit pre-selection ({candidates} re-ranked) vs exact, {pairs.Count} entries: {(double)agree / queries.Count:F4}");
        }

        return 0;
    }

    private static string CacheText(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static IEnumerable<(string, SemanticCacheOptions)> Sweep()
    {
        foreach (var similarity in new[] { 0.85, 0.90, 0.93, 0.95 })
        {
            yield return ($"cosine {similarity:F2} only", new SemanticCacheOptions { MinSimilarity = similarity, MinMargin = 0, RequireSalientAgreement = false });
            yield return ($"cosine {similarity:F2} + margin 0.02", new SemanticCacheOptions { MinSimilarity = similarity, MinMargin = 0.02, RequireSalientAgreement = false });
            yield return ($"cosine {similarity:F2} + salient terms", new SemanticCacheOptions { MinSimilarity = similarity, MinMargin = 0, RequireSalientAgreement = true });
            yield return ($"cosine {similarity:F2} + margin 0.02 + salient", new SemanticCacheOptions { MinSimilarity = similarity, MinMargin = 0.02, RequireSalientAgreement = true });
            yield return ($"cosine {similarity:F2} + margin 0.05 + salient", new SemanticCacheOptions { MinSimilarity = similarity, MinMargin = 0.05, RequireSalientAgreement = true });
        }
    }

    internal static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
