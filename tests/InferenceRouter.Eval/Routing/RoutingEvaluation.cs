using System.Diagnostics;
using System.Numerics.Tensors;

namespace InferenceRouter.Eval;

/// <summary>
/// <c>routing</c>: scores routers on RouteLLM-format data. <c>--train</c> files play the app's recorded outcomes, <c>--test</c> files the
/// prompts to route; or <c>--data &lt;dir&gt; --split warm|cold</c> splits one folder (warm: rows of every subject on both sides; cold:
/// whole subjects on one side). Prints one line per router: the embedding nearest-neighbour predictor, then a random and a
/// prompt-length baseline on the same test set.
/// </summary>
public static class RoutingEvaluation
{
    private const int Neighbours = 25;

    public static async Task<int> RunAsync(string[] args)
    {
        int seed = int.Parse(EvalCommands.Option(args, "--seed") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        List<RoutingExample> train, test;
        if (EvalCommands.Option(args, "--data") is { } data)
        {
            (train, test) = Split(RoutingDataset.Load([data]), EvalCommands.Option(args, "--split") ?? "cold", seed);
        }
        else
        {
            train = RoutingDataset.Load(Values(args, "--train"));
            test = RoutingDataset.Load(Values(args, "--test"));
        }

        if (train.Count == 0 || test.Count == 0)
        {
            Console.Error.WriteLine("usage: eval routing --train <dir|csv>... --test <dir|csv>... | --data <dir> --split warm|cold [--seed N]");
            return 2;
        }

        Console.WriteLine($"train {train.Count} prompts ({train.Select(e => e.Subject).Distinct().Count()} files), test {test.Count} ({test.Select(e => e.Subject).Distinct().Count()} files); " +
            $"test accuracy weak {test.Average(e => e.WeakCorrect ? 1.0 : 0):P1}, strong {test.Average(e => e.StrongCorrect ? 1.0 : 0):P1}");

        var started = Stopwatch.GetTimestamp();
        using var generator = new OnnxEmbeddingGenerator();
        var trainVectors = await EmbedAsync(generator, train);
        var testVectors = await EmbedAsync(generator, test);
        Console.WriteLine($"embedded {train.Count + test.Count} prompts in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");

        // --prior-data: the prior is trained elsewhere (as the shipped one is), so recorded outcomes must carry the app's own domain.
        QualityPrior? shippedLike = null;
        if (Values(args, "--prior-data") is { Count: > 0 } priorPaths)
        {
            var priorExamples = RoutingDataset.Load(priorPaths);
            shippedLike = QualityPriorTraining.ToPrior(QualityPriorTraining.Train(priorExamples, await EmbedAsync(generator, priorExamples), "all-MiniLM-L6-v2", "prior-data"));
        }

        var quality = QualityRouting(generator, train, trainVectors, test, testVectors, shippedLike);
        Console.WriteLine($"{"quality-predictor",-17} {RoutingMetrics.Measure(test, quality)}");
        var prior = QualityRouting(generator, [], [], test, testVectors, shippedLike ?? QualityPriorTraining.ToPrior(QualityPriorTraining.Train(train, trainVectors, "all-MiniLM-L6-v2", "train")));
        Console.WriteLine($"{"prior-only",-17} {RoutingMetrics.Measure(test, prior)}");
        var knn = testVectors.Select(v => NearestGain(v, trainVectors, train)).ToList();
        Console.WriteLine($"{"knn-embedding",-17} {RoutingMetrics.Measure(test, knn)}");

        var random = new Random(seed);
        var runs = Enumerable.Range(0, 20).Select(_ => RoutingMetrics.Measure(test, [.. test.Select(_ => random.NextDouble())])).ToList();
        Console.WriteLine($"{"random",-17} {RoutingMetrics.Mean(runs)}");
        Console.WriteLine($"{"prompt-length",-17} {RoutingMetrics.Measure(test, [.. test.Select(e => (double)e.Prompt.Length)])}");
        return 0;
    }

    /// <summary>
    /// The shipped predictor as an app would run it: a prior trained on the <c>--train</c> rows (never on test rows), then every
    /// <c>--train</c> row recorded as two outcomes (weak = tier 0, strong = tier 1). Scores are the predicted gain of the strong tier.
    /// </summary>
    private static List<double> QualityRouting(OnnxEmbeddingGenerator generator, List<RoutingExample> train, float[][] trainVectors, List<RoutingExample> test, float[][] testVectors, QualityPrior? prior = null)
    {
        prior ??= QualityPriorTraining.ToPrior(QualityPriorTraining.Train(train, trainVectors, "all-MiniLM-L6-v2", "train"));
        using var predictor = new QualityPredictor(new QualityPredictorOptions(), generator, prior: prior);
        var recording = Stopwatch.GetTimestamp();
        for (int i = 0; i < train.Count; i++)
        {
            predictor.RecordOutcome(train[i].Prompt, trainVectors[i], 0, train[i].WeakCorrect ? 1 : 0);
            predictor.RecordOutcome(train[i].Prompt, trainVectors[i], 1, train[i].StrongCorrect ? 1 : 0);
        }

        var recorded = Stopwatch.GetElapsedTime(recording).TotalMilliseconds / Math.Max(1, 2 * train.Count);

        var started = Stopwatch.GetTimestamp();
        var scores = test.Select((e, i) => predictor.Predict(e.Prompt, testVectors[i]).GainOver(0)).ToList();
        var perPrompt = Stopwatch.GetElapsedTime(started).TotalMicroseconds / test.Count;
        var strongShare = test.Select((e, i) => predictor.Predict(e.Prompt, testVectors[i]).ChosenTier).Average();
        if (train.Count > 0)
        {
            // End to end, embedding included, one prompt at a time as calls arrive (the first call loads nothing: the model is warm).
            var timings = test.Take(50).Select(e =>
            {
                var begun = Stopwatch.GetTimestamp();
                predictor.PredictAsync([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, e.Prompt)]).AsTask().GetAwaiter().GetResult();
                return Stopwatch.GetElapsedTime(begun).TotalMilliseconds;
            }).Order().ToList();
            Console.WriteLine($"  with the embedding: p50 {timings[25]:F1} ms, p90 {timings[45]:F1} ms per prompt (50 test prompts)");
        }

        Console.WriteLine($"  predictor: {predictor.OutcomeCount} outcomes ({recorded:F2} ms each to record, refits and recalibrations included), {perPrompt:F0} µs per prediction without embedding, {predictor.EstimatedBytes / 1024} KiB; bar '{predictor.Bar}' sent {strongShare:P1} of test calls to the strong tier");
        return scores;
    }

    /// <summary>Warm: each subject's rows shuffled and halved. Cold: subjects shuffled and halved, never split by row.</summary>
    public static (List<RoutingExample> Train, List<RoutingExample> Test) Split(List<RoutingExample> all, string split, int seed)
    {
        var random = new Random(seed);
        if (split == "warm")
        {
            var train = new List<RoutingExample>();
            var test = new List<RoutingExample>();
            foreach (var subject in all.GroupBy(e => e.Subject))
            {
                var rows = subject.OrderBy(_ => random.Next()).ToList();
                train.AddRange(rows.Take(rows.Count / 2));
                test.AddRange(rows.Skip(rows.Count / 2));
            }

            return (train, test);
        }

        if (split != "cold")
        {
            throw new ArgumentException($"--split is '{split}'; give warm or cold.");
        }

        var subjects = all.Select(e => e.Subject).Distinct().Order(StringComparer.Ordinal).OrderBy(_ => random.Next()).ToList();
        var trainSubjects = subjects.Take(subjects.Count / 2).ToHashSet();
        return ([.. all.Where(e => trainSubjects.Contains(e.Subject))], [.. all.Where(e => !trainSubjects.Contains(e.Subject))]);
    }

    /// <summary>
    /// Embeds the prompts, reading the vectors of prompts embedded by earlier runs (minutes on two cores) from a store beside the tool:
    /// records of a prompt's SHA-256 and its vector, appended as new prompts are embedded.
    /// </summary>
    internal static async Task<float[][]> EmbedAsync(OnnxEmbeddingGenerator generator, List<RoutingExample> examples)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "embedding-cache", "prompts.bin");
        int dimensions = generator.Dimensions;
        var known = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            while (reader.BaseStream.Position + 32 + (dimensions * sizeof(float)) <= reader.BaseStream.Length)
            {
                var key = Convert.ToHexString(reader.ReadBytes(32));
                var vector = new float[dimensions];
                reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()));
                known[key] = vector;
            }
        }

        static string Key(string prompt) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(prompt)));
        var missing = examples.Select(e => e.Prompt).Where(p => !known.ContainsKey(Key(p))).Distinct().ToList();
        if (missing.Count > 0)
        {
            var embeddings = await generator.GenerateAsync(missing);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var writer = new BinaryWriter(new FileStream(path, FileMode.Append));
            for (int i = 0; i < missing.Count; i++)
            {
                var vector = embeddings[i].Vector.ToArray();
                var key = Key(missing[i]);
                known[key] = vector;
                writer.Write(Convert.FromHexString(key));
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()));
            }
        }

        return [.. examples.Select(e => known[Key(e.Prompt)])];
    }

    /// <summary>The similarity-weighted mean strong-minus-weak gain of the nearest recorded prompts.</summary>
    private static double NearestGain(float[] vector, float[][] train, List<RoutingExample> examples)
    {
        var best = new PriorityQueue<int, float>(Neighbours + 1);
        for (int i = 0; i < train.Length; i++)
        {
            float similarity = TensorPrimitives.Dot(vector, train[i]);
            best.Enqueue(i, similarity);
            if (best.Count > Neighbours)
            {
                best.Dequeue();
            }
        }

        double sum = 0, weights = 0;
        while (best.TryDequeue(out int i, out float similarity))
        {
            double weight = Math.Max(similarity, 0);
            sum += weight * examples[i].Gain;
            weights += weight;
        }

        return weights == 0 ? 0 : sum / weights;
    }

    internal static List<string> Values(string[] args, string name)
    {
        var values = new List<string>();
        for (int i = Array.IndexOf(args, name) + 1; i > 0 && i < args.Length && !args[i].StartsWith("--", StringComparison.Ordinal); i++)
        {
            values.Add(args[i]);
        }

        return values;
    }
}
