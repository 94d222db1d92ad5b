using Microsoft.ML.Tokenizers;

namespace InferenceRouter;

/// <summary>Counts tokens exactly with a <see cref="Tokenizer"/> (OpenAI's tiktoken encodings).</summary>
/// <remarks>Thread-safe.</remarks>
public sealed class TiktokenTokenCounter : ITokenCounter
{
    private readonly Tokenizer _tokenizer;

    /// <summary>Creates a counter over <paramref name="tokenizer"/>.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    public TiktokenTokenCounter(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
    }

    /// <inheritdoc/>
    public int CountTokens(ReadOnlySpan<char> text) => text.IsEmpty ? 0 : _tokenizer.CountTokens(text);
}
