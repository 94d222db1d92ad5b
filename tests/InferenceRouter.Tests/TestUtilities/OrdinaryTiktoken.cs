using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace InferenceRouter.Tests;

/// <summary>
/// OpenAI's encodings as a provider applies them to the text it is sent: ordinary text only, no special tokens (tiktoken's
/// <c>encode_ordinary</c>). Built from the packaged encoding's own vocabulary and tiktoken's published split patterns, independently of
/// the counter under test.
/// </summary>
internal static class OrdinaryTiktoken
{
    // tiktoken_ext/openai_public.py, as Microsoft.ML.Tokenizers writes them for .NET's regex engine.
    private const string O200kPattern = @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Cl100kPattern = @"'(?i:[sdmt]|ll|ve|re)|(?>[^\r\n\p{L}\p{N}]?)(?>\p{L}+)|(?>\p{N}{1,3})| ?(?>[^\s\p{L}\p{N}]+)(?>[\r\n]*)|(?>\s+)$|\s*[\r\n]|\s+(?!\S)|\s";

    private static readonly Lazy<Tokenizer> s_o200k = new(() => Create("o200k_base", O200kPattern));
    private static readonly Lazy<Tokenizer> s_cl100k = new(() => Create("cl100k_base", Cl100kPattern));

    public static Tokenizer O200kBase => s_o200k.Value;

    public static Tokenizer Cl100kBase => s_cl100k.Value;

    /// <summary>A counter a billing provider uses: the encoding's ordinary count.</summary>
    public static ITokenCounter Counter(Tokenizer tokenizer) => new OrdinaryCounter(tokenizer);

    private static Tokenizer Create(string encoding, string pattern)
    {
        // The vocabulary the packaged encoding loads (its data package's resource), read without the special tokens it adds.
        var data = System.Reflection.Assembly.Load(encoding == "o200k_base" ? "Microsoft.ML.Tokenizers.Data.O200kBase" : "Microsoft.ML.Tokenizers.Data.Cl100kBase");
        using var compressed = data.GetManifestResourceStream($"{encoding}.tiktoken.deflate") ?? throw new InvalidOperationException($"{encoding}'s vocabulary is not in {data.FullName}.");
        using var vocabulary = new System.IO.Compression.DeflateStream(compressed, System.IO.Compression.CompressionMode.Decompress);
        var ordinary = TiktokenTokenizer.Create(vocabulary, new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), null), normalizer: null, specialTokens: null);
        ordinary.SpecialTokens.Should().BeNullOrEmpty("the reference reads every text as ordinary text");
        return ordinary;
    }

    private sealed class OrdinaryCounter(Tokenizer tokenizer) : ITokenCounter
    {
        public int CountTokens(ReadOnlySpan<char> text) => text.IsEmpty ? 0 : tokenizer.CountTokens(text);
    }
}
