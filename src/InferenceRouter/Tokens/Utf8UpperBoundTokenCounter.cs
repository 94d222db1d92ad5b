using System.Text;

namespace InferenceRouter;

/// <summary>Counts one token per UTF-8 byte: an upper bound for any byte-level or byte-fallback tokenizer, whatever the script.</summary>
/// <remarks>
/// BPE tokenizers (GPT, Llama 3, Mistral, Qwen…) merge bytes into tokens and SentencePiece falls back to single bytes, so no model
/// reads more tokens than the text has UTF-8 bytes. English text costs about four bytes per real token, so reservations over this
/// counter are generous; give a route its exact tokenizer (<see cref="RouteDescriptor.TokenCounter"/>) to reserve closer to the real cost.
/// Thread-safe and allocation-free.
/// </remarks>
public sealed class Utf8UpperBoundTokenCounter : ITokenCounter
{
    /// <inheritdoc/>
    public int CountTokens(ReadOnlySpan<char> text) => Encoding.UTF8.GetByteCount(text);
}
