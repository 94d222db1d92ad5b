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

        var knn = testVectors.Select(v => NearestGain(v, trainVectors, train)).ToList();
        Console.WriteLine($"{"knn-embedding",-14} {RoutingMetrics.Measure(test, knn)}");

        var random = new Random(seed);
        var runs = Enumerable.Range(0, 20).Select(_ => RoutingMetrics.Measure(test, [.. test.Select(_ => random.NextDouble())])).ToList();
        Console.WriteLine($"{"random",-14} {RoutingMetrics.Mean(runs)}");
        Console.WriteLine($"{"prompt-length",-14} {RoutingMetrics.Measure(test, [.. test.Select(e => (double)e.Prompt.Length)])}");
        return 0;
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

    /// <summary>Embeds the prompts, or reads the vectors of an earlier run of the same prompts (minutes on two cores) from beside the tool.</summary>
    private static async Task<float[][]> EmbedAsync(OnnxEmbeddingGenerator generator, List<RoutingExample> examples)
    {
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\u0000", examples.Select(e => e.Prompt)))));
        var path = Path.Combine(AppContext.BaseDirectory, "embedding-cache", hash[..16] + ".bin");
        if (File.Exists(path))
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            int count = reader.ReadInt32(), dimensions = reader.ReadInt32();
            var cached = new float[count][];
            for (int i = 0; i < count; i++)
            {
                cached[i] = new float[dimensions];
                reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cached[i].AsSpan()));
            }

            return cached;
        }

        var embeddings = await generator.GenerateAsync(examples.Select(e => e.Prompt));
        float[][] vectors = [.. embeddings.Select(e => e.Vector.ToArray())];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var writer = new BinaryWriter(File.Create(path)))
        {
            writer.Write(vectors.Length);
            writer.Write(vectors.Length == 0 ? 0 : vectors[0].Length);
            foreach (var vector in vectors)
            {
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()));
            }
        }

        return vectors;
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

    private static List<string> Values(string[] args, string name)
    {
        var values = new List<string>();
        for (int i = Array.IndexOf(args, name) + 1; i > 0 && i < args.Length && !args[i].StartsWith("--", StringComparison.Ordinal); i++)
        {
            values.Add(args[i]);
        }

        return values;
    }
}
