using Microsoft.ML.Tokenizers;

namespace InferenceRouter;

/// <summary>Exact token counters for OpenAI's models (tiktoken), and the choice of one for a model id.</summary>
/// <remarks>
/// Routes built from configuration with an OpenAI provider get theirs already; give code-built routes theirs with
/// <c>new RouteDescriptor(name) { TokenCounter = OpenAITokenCounters.ForModel(model) }</c>. Thread-safe; encodings load on first use.
/// </remarks>
public static class OpenAITokenCounters
{
    private static readonly Lazy<ITokenCounter> s_o200k = new(() => new TiktokenTokenCounter(TiktokenTokenizer.CreateForEncoding("o200k_base")));
    private static readonly Lazy<ITokenCounter> s_cl100k = new(() => new TiktokenTokenCounter(TiktokenTokenizer.CreateForEncoding("cl100k_base")));

    /// <summary>Gets the counter for OpenAI's o200k_base encoding (GPT-4o, GPT-4.1, GPT-5, o-series).</summary>
    public static ITokenCounter O200kBase => s_o200k.Value;

    /// <summary>Gets the counter for OpenAI's cl100k_base encoding (GPT-4, GPT-3.5).</summary>
    public static ITokenCounter Cl100kBase => s_cl100k.Value;

    /// <summary>Chooses a counter for <paramref name="modelId"/>: the exact tokenizer for OpenAI models, the core's upper bound otherwise.</summary>
    /// <param name="modelId">The model id, e.g. <c>gpt-4.1-mini</c>; may be null.</param>
    /// <returns>The counter to use.</returns>
    public static ITokenCounter ForModel(string? modelId)
    {
        if (string.IsNullOrEmpty(modelId))
        {
            return TokenCounters.UpperBound;
        }

        var id = modelId.AsSpan();
        if (id.StartsWith("gpt-4o", StringComparison.OrdinalIgnoreCase) || id.StartsWith("gpt-4.1", StringComparison.OrdinalIgnoreCase) ||
            id.StartsWith("gpt-5", StringComparison.OrdinalIgnoreCase) || id.StartsWith("chatgpt-", StringComparison.OrdinalIgnoreCase) ||
            (id.Length > 1 && (id[0] is 'o' or 'O') && char.IsAsciiDigit(id[1])))
        {
            return O200kBase;
        }

        if (id.StartsWith("gpt-4", StringComparison.OrdinalIgnoreCase) || id.StartsWith("gpt-3.5", StringComparison.OrdinalIgnoreCase))
        {
            return Cl100kBase;
        }

        return TokenCounters.UpperBound;
    }
}
