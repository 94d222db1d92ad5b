namespace InferenceRouter;

/// <summary>
/// Cheap features of a prompt that hint how hard it is, read in one pass without a model: length, digits and maths, code, other
/// scripts, question type (calculate, negated, multiple choice, statements). The quality prior is a linear model over them.
/// </summary>
/// <remarks>Allocation-free; thread-safe (pure function).</remarks>
internal static class PromptFeatures
{
    /// <summary>The number of features, including the constant first one.</summary>
    public const int Count = 20;

    /// <summary>The features' names, in order (the prior's file lists them, so a file made for other features is refused).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "bias", "log-chars", "log-words", "digits", "maths-symbols", "latex", "code", "log-lines", "questions", "non-ascii",
        "uppercase", "word-length", "log-numbers", "negated-question", "calculate", "statements", "longest-line", "choices",
        "choice-length", "which-of-following",
    ];

    private static readonly string[] s_calculate =
        ["calculate", "compute", "how many", "how much", "what is the value", "solve", "evaluate", "find the", "probability", "determine"];

    private static readonly string[] s_code = ["```", "def ", "return ", "=>", "();", "{\n", "#include", "print(", "function "];

    /// <summary>Writes the features of <paramref name="prompt"/> into <paramref name="features"/> (length <see cref="Count"/>).</summary>
    public static void Extract(ReadOnlySpan<char> prompt, Span<float> features)
    {
        if (features.Length < Count)
        {
            throw new ArgumentException($"The span holds {features.Length} features; {Count} are needed.", nameof(features));
        }

        features[..Count].Clear();
        int chars = Math.Max(prompt.Length, 1);
        int words = 0, digits = 0, maths = 0, nonAscii = 0, upper = 0, letters = 0, lines = 1, questions = 0, numbers = 0, latex = 0;
        int longestLine = 0, lineStart = 0, choices = 0, choiceChars = 0;
        bool inWord = false, inNumber = false;
        for (int i = 0; i < prompt.Length; i++)
        {
            char c = prompt[i];
            bool wordChar = char.IsLetterOrDigit(c);
            if (wordChar && !inWord)
            {
                words++;
            }

            inWord = wordChar;
            bool digit = char.IsAsciiDigit(c);
            if (digit && !inNumber)
            {
                numbers++;
            }

            inNumber = digit || (inNumber && c == '.');
            digits += digit ? 1 : 0;
            maths += c is '+' or '=' or '*' or '/' or '^' or '<' or '>' or '%' or '√' or '∑' or '∫' or '×' or '÷' ? 1 : 0;
            latex += c is '$' or '\\' ? 1 : 0;
            questions += c == '?' ? 1 : 0;
            if (char.IsLetter(c))
            {
                letters++;
                upper += char.IsUpper(c) ? 1 : 0;
                nonAscii += c > 127 ? 1 : 0;
            }

            if (c == '\n' || i == prompt.Length - 1)
            {
                var line = prompt[lineStart..(c == '\n' ? i : i + 1)].Trim();
                longestLine = Math.Max(longestLine, line.Length);
                if (line.Length >= 2 && line[0] is >= 'A' and <= 'J' && line[1] is '.' or ')')
                {
                    choices++;
                    choiceChars += line.Length - 2;
                }

                lines += c == '\n' ? 1 : 0;
                lineStart = i + 1;
            }
        }

        features[0] = 1;
        features[1] = MathF.Log(1 + prompt.Length) / 10;
        features[2] = MathF.Log(1 + words) / 8;
        features[3] = (float)digits / chars;
        features[4] = (float)maths / chars * 10;
        features[5] = latex > 0 ? 1 : 0;
        features[6] = ContainsAny(prompt, s_code) ? 1 : 0;
        features[7] = MathF.Log(lines) / 5;
        features[8] = Math.Min(questions, 3) / 3f;
        features[9] = letters == 0 ? 0 : (float)nonAscii / letters;
        features[10] = letters == 0 ? 0 : (float)upper / letters;
        features[11] = words == 0 ? 0 : Math.Min((float)(letters + digits) / words, 20) / 10;
        features[12] = MathF.Log(1 + numbers) / 5;
        features[13] = prompt.Contains(" NOT ", StringComparison.Ordinal) || prompt.Contains("EXCEPT", StringComparison.Ordinal) ? 1 : 0;
        features[14] = ContainsAny(prompt, s_calculate, StringComparison.OrdinalIgnoreCase) ? 1 : 0;
        features[15] = prompt.Contains("Statement 1", StringComparison.OrdinalIgnoreCase) ? 1 : 0;
        features[16] = (float)longestLine / chars;
        features[17] = Math.Min(choices, 8) / 4f;
        features[18] = choices == 0 ? 0 : MathF.Log(1 + ((float)choiceChars / choices)) / 5;
        features[19] = prompt.Contains("which of the following", StringComparison.OrdinalIgnoreCase) ? 1 : 0;
    }

    private static bool ContainsAny(ReadOnlySpan<char> text, string[] needles, StringComparison comparison = StringComparison.Ordinal)
    {
        foreach (var needle in needles)
        {
            if (text.Contains(needle, comparison))
            {
                return true;
            }
        }

        return false;
    }
}
