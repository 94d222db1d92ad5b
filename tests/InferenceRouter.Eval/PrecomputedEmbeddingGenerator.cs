using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Eval;

/// <summary>Embeds a known set of texts once, in large batches, then serves them from memory (the cache asks one text at a time).</summary>
public sealed class PrecomputedEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner) : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly ConcurrentDictionary<string, Embedding<float>> _known = new(StringComparer.Ordinal);

    public async Task PrepareAsync(IEnumerable<string> texts)
    {
        var missing = texts.Distinct(StringComparer.Ordinal).Where(t => !_known.ContainsKey(t)).ToArray();
        var embeddings = await inner.GenerateAsync(missing);
        for (int i = 0; i < missing.Length; i++)
        {
            _known[missing[i]] = embeddings[i];
        }
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            result.Add(_known.TryGetValue(value, out var known) ? known : (await inner.GenerateAsync([value], options, cancellationToken))[0]);
        }

        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => inner.GetService(serviceType, serviceKey);

    public void Dispose()
    {
    }
}
