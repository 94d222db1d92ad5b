namespace InferenceRouter;

/// <summary>
/// The parts of a question that a semantic hit must match character for character: its code (fenced blocks, inline code spans,
/// indented lines) and, when two questions differ only in whitespace, the whitespace itself unless both are one-line prose.
/// </summary>
/// <remarks>
/// The embedder reads whitespace-collapsed text (<see cref="CacheRequest.EmbeddingText"/>), so <c>print(total)</c> inside a loop and
/// after it embed alike (cosine 1). In code, in quoted strings and in indentation-structured text (Python, YAML) whitespace is meaning;
/// in a one-line sentence it is not ("What is  the time?" is "What is the time?"). A miss costs one model call; a wrong hit costs trust.
/// </remarks>
internal static class VerbatimParts
{
    private const string Fence = "```";
    private const string TildeFence = "~~~";

    /// <summary>Returns whether a semantic match between <paramref name="question"/> and <paramref name="cached"/> (both as sent) may stand.</summary>
    public static bool Agree(string question, string cached)
    {
        if (string.Equals(question, cached, StringComparison.Ordinal))
        {
            return true;
        }

        if (!Code(question).SequenceEqual(Code(cached), StringComparer.Ordinal))
        {
            return false;
        }

        bool whitespaceOnly = string.Equals(CacheRequest.CollapseWhitespace(question), CacheRequest.CollapseWhitespace(cached), StringComparison.Ordinal);
        return !whitespaceOnly || (IsOneLineProse(question) && IsOneLineProse(cached));
    }

    /// <summary>Lists the code of <paramref name="text"/> in order: fenced blocks, inline code spans and indented lines, each as written.</summary>
    internal static List<string> Code(string text)
    {
        var parts = new List<string>();
        var span = text.AsSpan();
        int lineStart = 0;
        while (lineStart < span.Length)
        {
            int lineEnd = span[lineStart..].IndexOf('\n') is var n and >= 0 ? lineStart + n : span.Length;
            var line = span[lineStart..lineEnd];
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith(Fence, StringComparison.Ordinal) || trimmed.StartsWith(TildeFence, StringComparison.Ordinal))
            {
                // A fenced block runs to the closing fence (or the end): its whole text, fences and indentation included.
                var fence = trimmed[..3];
                int close = span[lineEnd..].IndexOf(fence) is var c and >= 0 ? lineEnd + c + 3 : span.Length;
                parts.Add(text[lineStart..close]);
                lineStart = close;
                continue;
            }

            if (lineStart > 0 && line.Length > 0 && (line[0] is ' ' or '\t') && !trimmed.IsEmpty)
            {
                parts.Add(line.TrimEnd('\r').ToString()); // an indented line: its indentation is its meaning (Python, YAML)
            }
            else
            {
                AddInlineCode(line, parts);
            }

            lineStart = lineEnd + 1;
        }

        return parts;
    }

    private static void AddInlineCode(ReadOnlySpan<char> line, List<string> parts)
    {
        while (line.IndexOf('`') is var open and >= 0)
        {
            int close = line[(open + 1)..].IndexOf('`');
            if (close < 0)
            {
                parts.Add(line[open..].ToString()); // an unclosed span: the rest of the line, as written
                return;
            }

            parts.Add(line.Slice(open, close + 2).ToString());
            line = line[(open + close + 2)..];
        }
    }

    /// <summary>One line of text with no quotes, tabs or code marks: whitespace there carries no meaning.</summary>
    private static bool IsOneLineProse(string text) => text.AsSpan().Trim().IndexOfAny("\n\r\t`'\"‘’“”") < 0;
}
