using System.Text;
using Microsoft.ML.Tokenizers;

namespace InferenceRouter;

/// <summary>Counts tokens exactly with a <see cref="Tokenizer"/> (OpenAI's tiktoken encodings), as a provider bills text it is sent.</summary>
/// <remarks>
/// Providers read the text of a request as ordinary text: <c>&lt;|endoftext|&gt;</c> in a message is billed as the several tokens of its
/// characters, never as the one special token a tokenizer reads it as by default. Text that holds one of the tokenizer's special tokens
/// therefore counts one token per UTF-8 byte (<see cref="Utf8UpperBoundTokenCounter"/>: no byte-level encoding of any text has more),
/// so the count bounds the bill for any input. Thread-safe.
/// </remarks>
public sealed class TiktokenTokenCounter : ITokenCounter
{
    private readonly Tokenizer _tokenizer;
    private readonly string[] _specialTokens;

    /// <summary>Creates a counter over <paramref name="tokenizer"/>.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    public TiktokenTokenCounter(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _specialTokens = SpecialTokensOf(tokenizer);
    }

    /// <inheritdoc/>
    public int CountTokens(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        foreach (var special in _specialTokens)
        {
            if (text.Contains(special, StringComparison.Ordinal))
            {
                return Encoding.UTF8.GetByteCount(text); // the tokenizer would count the special token as 1; the provider bills its characters
            }
        }

        return _tokenizer.CountTokens(text);
    }

    /// <summary>The strings the tokenizer reads as single special tokens, whatever its kind.</summary>
    private static string[] SpecialTokensOf(Tokenizer tokenizer)
    {
        var specials = tokenizer switch
        {
            TiktokenTokenizer t => t.SpecialTokens?.Keys,
            BpeTokenizer t => t.SpecialTokens?.Keys,
            CodeGenTokenizer t => t.SpecialTokens?.Keys,
            SentencePieceTokenizer t => t.SpecialTokens?.Keys,
            WordPieceTokenizer t => t.SpecialTokens?.Keys,
            _ => null,
        };
        return specials is null ? [] : [.. specials.Where(s => s.Length > 0)];
    }
}
