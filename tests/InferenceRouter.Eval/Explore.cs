using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Eval;

/// <summary>Scratch analysis: nearest cached questions for every query, written as TSV for offline study of hit rules.</summary>
public static class Explore
{
    public static async Task DumpAsync(string pairsPath, string output)
    {
        var pairs = Datasets.LoadPairs(pairsPath);
        using var generator = new OnnxEmbeddingGenerator();
        var cached = await EmbedAsync(generator, [.. pairs.Select(p => p.First)], output + ".q1.bin");
        var queries = await EmbedAsync(generator, [.. pairs.Select(p => p.Second)], output + ".q2.bin");
        using var writer = new StreamWriter(output);
        var scores = new float[cached.Length];
        for (int i = 0; i < queries.Length; i++)
        {
            for (int j = 0; j < cached.Length; j++)
            {
                scores[j] = TensorPrimitives.Dot(queries[i], cached[j]);
            }

            int best = TensorPrimitives.IndexOfMax(scores);
            float s1 = scores[best];
            scores[best] = float.MinValue;
            int second = TensorPrimitives.IndexOfMax(scores);
            writer.WriteLine(string.Join('\t', i, best, s1, second, scores[second], TensorPrimitives.Dot(queries[i], cached[i]), pairs[i].IsDuplicate ? 1 : 0, Clean(pairs[best].First), Clean(pairs[i].Second), Clean(pairs[i].First), Clean(pairs[second].First)));
        }
    }

    private static string Clean(string s) => s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');

    private static async Task<float[][]> EmbedAsync(IEmbeddingGenerator<string, Embedding<float>> generator, string[] texts, string cachePath)
    {
        if (File.Exists(cachePath))
        {
            var bytes = await File.ReadAllBytesAsync(cachePath);
            var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            int dims = all.Length / texts.Length;
            return [.. Enumerable.Range(0, texts.Length).Select(i => all.AsSpan(i * dims, dims).ToArray())];
        }

        var vectors = (await generator.GenerateAsync(texts)).Select(e => e.Vector.ToArray()).ToArray();
        await using var file = File.Create(cachePath);
        foreach (var v in vectors)
        {
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()));
        }

        return vectors;
    }
}
