namespace InferenceRouter;

/// <summary>
/// The parts of a question that a semantic hit must match character for character: its code (fenced blocks, inline code spans of
/// any backtick run, indented lines wherever they stand and the line that opens them) and, when two questions differ only in
/// whitespace, the whitespace itself unless both are one-line prose.
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

    /// <summary>
    /// Lists the code of <paramref name="text"/> in order, each part as written: fenced blocks, indented lines (the first line too) with
    /// the line that opens them (<c>if x:</c>, <c>key:</c>), and inline code spans (CommonMark backtick runs of any length).
    /// </summary>
    internal static List<string> Code(string text)
    {
        var parts = new List<string>();
        var span = text.AsSpan();
        int lineStart = 0;
        int proseStart = 0; // where the run of prose lines before this line starts: inline spans may cross its lines
        int lastProseLine = -1; // the last non-blank prose line's start, the header of an indented block that follows it
        while (lineStart < span.Length)
        {
            int lineEnd = span[lineStart..].IndexOf('\n') is var n and >= 0 ? lineStart + n : span.Length;
            var line = span[lineStart..lineEnd];
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith(Fence, StringComparison.Ordinal) || trimmed.StartsWith(TildeFence, StringComparison.Ordinal))
            {
                // A fenced block runs to the closing fence (or the end): its whole text, fences and indentation included.
                AddInlineCode(span[proseStart..lineStart], parts);
                var fence = trimmed[..3];
                int close = span[lineEnd..].IndexOf(fence) is var c and >= 0 ? lineEnd + c + 3 : span.Length;
                parts.Add(text[lineStart..close]);
                lineStart = proseStart = close;
                lastProseLine = -1;
                continue;
            }

            if (line.Length > 0 && (line[0] is ' ' or '\t') && !trimmed.IsEmpty)
            {
                // An indented line: its indentation is its meaning (Python, YAML), wherever it stands. The prose line before it opens it.
                AddInlineCode(span[proseStart..lineStart], parts);
                if (lastProseLine >= 0)
                {
                    parts.Add(LineAt(span, lastProseLine));
                }

                parts.Add(line.TrimEnd('\r').ToString());
                proseStart = lineEnd + 1;
                lastProseLine = -1;
            }
            else if (!trimmed.TrimEnd('\r').IsEmpty)
            {
                lastProseLine = lineStart;
            }

            lineStart = lineEnd + 1;
        }

        if (proseStart < span.Length)
        {
            AddInlineCode(span[proseStart..], parts);
        }

        return parts;
    }

    /// <summary>
    /// Adds the inline code spans of <paramref name="prose"/>: a run of n backticks up to the next run of exactly n (CommonMark), so
    /// <c>``rm -rf /``</c> is one span, not two empty ones. An unclosed run takes the rest of its line, as written.
    /// </summary>
    private static void AddInlineCode(ReadOnlySpan<char> prose, List<string> parts)
    {
        int at = 0;
        while (at < prose.Length && prose[at..].IndexOf('`') is var found and >= 0)
        {
            int open = at + found;
            int length = RunLength(prose, open);
            int close = -1;
            for (int search = open + length; search < prose.Length && prose[search..].IndexOf('`') is var next and >= 0;)
            {
                int candidate = search + next;
                int candidateLength = RunLength(prose, candidate);
                if (candidateLength == length)
                {
                    close = candidate;
                    break;
                }

                search = candidate + candidateLength;
            }

            if (close >= 0)
            {
                parts.Add(prose[open..(close + length)].ToString());
                at = close + length;
            }
            else
            {
                int lineEnd = prose[open..].IndexOf('\n') is var eol and >= 0 ? open + eol : prose.Length;
                parts.Add(prose[open..lineEnd].TrimEnd('\r').ToString());
                at = open + length;
            }
        }
    }

    private static int RunLength(ReadOnlySpan<char> text, int start)
    {
        int end = start;
        while (end < text.Length && text[end] == '`')
        {
            end++;
        }

        return end - start;
    }

    private static string LineAt(ReadOnlySpan<char> text, int start)
    {
        var rest = text[start..];
        return (rest.IndexOf('\n') is var n and >= 0 ? rest[..n] : rest).TrimEnd('\r').ToString();
    }

    /// <summary>One line of text with no quotes, tabs or code marks: whitespace there carries no meaning.</summary>
    private static bool IsOneLineProse(string text) => text.AsSpan().Trim().IndexOfAny("\n\r\t`'\"‘’“”") < 0;
}
