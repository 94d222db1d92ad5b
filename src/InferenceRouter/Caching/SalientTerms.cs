using System.Collections.Frozen;
using System.Globalization;

namespace InferenceRouter;

/// <summary>
/// Checks that two similar questions agree on what changes an answer while barely moving an embedding: negation (words, and negated
/// forms of the other prompt's words: "unsafe" against "safe"), opposites and other mutually exclusive words (<see cref="ContrastSets"/>),
/// numbers in order, expressions and their operands (<c>10-3</c> is not <c>3-10</c>), which side of a direction word each term is on
/// ("5 km to miles" is not "5 miles to km", "Paris → London" is not "London → Paris"), names, quoted and code-like literals, and
/// symbols (emoji, currency signs).
/// </summary>
/// <remarks>
/// Measured on Quora Question Pairs and on the everyday corpus (tests/InferenceRouter.Tests/Caching/everyday-pairs.tsv; docs/caching.md).
/// Runs only on a semantic candidate (never on the exact path), one pass over each prompt.
/// </remarks>
internal static class SalientTerms
{
    private static readonly FrozenSet<string> s_negations = FrozenSet.ToFrozenSet(
        ["not", "no", "never", "without", "nothing", "nobody", "nowhere", "none", "nor", "neither", "cannot", "cant", "dont", "doesnt", "didnt",
         "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "shouldnt", "couldnt", "hasnt", "havent", "hadnt", "non", "free"], StringComparer.Ordinal);

    private static readonly FrozenSet<string> s_stopWords = FrozenSet.ToFrozenSet(
        ["a", "an", "the", "is", "are", "was", "were", "be", "do", "does", "did", "i", "me", "my", "we", "you", "your", "he", "she", "it",
         "they", "what", "which", "who", "how", "why", "when", "where", "this", "that", "of", "at", "by", "for", "with", "about", "to",
         "from", "in", "on", "and", "or", "if", "can", "will", "should", "would", "could", "vs", "there", "their", "its", "some", "any",
         "much", "many", "way", "best", "easiest", "want", "need", "like", "going", "able", "try", "trying", "have", "has", "get", "possible"],
        StringComparer.Ordinal);

    // Words whose left side is where something starts and right side where it ends (or what is compared with what): the terms on each
    // side must stay on that side. "from" marks only its right side as the start; "after" is "before" reversed.
    private static readonly FrozenDictionary<string, Direction> s_directionWords = new Dictionary<string, Direction>(StringComparer.Ordinal)
    {
        ["to"] = Direction.Forward, ["into"] = Direction.Forward, ["towards"] = Direction.Forward, ["toward"] = Direction.Forward,
        ["onto"] = Direction.Forward, ["than"] = Direction.Forward, ["vs"] = Direction.Forward, ["versus"] = Direction.Forward,
        ["before"] = Direction.Forward, ["per"] = Direction.Forward, ["over"] = Direction.Forward, ["after"] = Direction.Backward,
        ["from"] = Direction.From, ["in"] = Direction.Within,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private const string ArrowCharacters = "→⇒⟶➔➜➡";

    private const string ExpressionOperators = "+-*/^%×÷=<>≤≥";

    private enum Direction
    {
        Forward,
        Backward,
        From,

        /// <summary>"in" between units ("grams in 3 ounces", "20 °C in Fahrenheit"): like <see cref="Backward"/>, for units only.</summary>
        Within,
    }

    /// <summary>Which side of a direction word a term stands on.</summary>
    private enum Side : byte
    {
        Start = 1,
        End = 2,
    }

    /// <summary>Returns whether <paramref name="a"/> and <paramref name="b"/> agree on every salient term (see the class summary).</summary>
    public static bool Agree(string a, string b)
    {
        var first = Read(a);
        var second = Read(b);
        return first.Negated == second.Negated &&
            first.Numbers.SequenceEqual(second.Numbers, StringComparer.Ordinal) &&
            first.Expressions.SequenceEqual(second.Expressions, StringComparer.Ordinal) &&
            first.Literals.SequenceEqual(second.Literals, StringComparer.Ordinal) &&
            first.Symbols.SequenceEqual(second.Symbols, StringComparer.Ordinal) &&
            first.Names.IsSubsetOf(second.Stems) && second.Names.IsSubsetOf(first.Stems) &&
            !NegatesAny(first, second) && !NegatesAny(second, first) &&
            ContrastsAgree(first, second) &&
            SidesAgree(first, second);
    }

    /// <summary>A crude plural stem, enough to match "Pythons" with "Python".</summary>
    internal static string Stem(string word) =>
        word.Length > 4 && word.EndsWith("ies", StringComparison.Ordinal) ? word[..^3] + "y"
        : word.Length > 4 && word.EndsWith("es", StringComparison.Ordinal) ? word[..^2]
        : word.Length > 4 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) ? word[..^1]
        : word;

    private static bool NegatesAny(Terms terms, Terms other)
    {
        foreach (var stem in terms.Stems)
        {
            if (ContrastSets.NegatesWordOf(stem, other.Stems))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Each contrast set used by both prompts must be used with the same members ("for kids" is not "for adults").</summary>
    private static bool ContrastsAgree(Terms first, Terms second) => UsesOnlySharedMembers(first, second) && UsesOnlySharedMembers(second, first);

    private static bool UsesOnlySharedMembers(Terms terms, Terms other)
    {
        foreach (int member in terms.Contrasts)
        {
            if (!other.Contrasts.Contains(member) && other.Contrasts.Any(m => ContrastSets.SetOf(m) == ContrastSets.SetOf(member)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A term on the start side of a direction word in one prompt may not be on the end side in the other.</summary>
    private static bool SidesAgree(Terms first, Terms second)
    {
        foreach (var (stem, side) in first.Sides)
        {
            if (second.Sides.TryGetValue(stem, out var other) && other != side)
            {
                return false;
            }
        }

        return true;
    }

    private static Terms Read(string text)
    {
        var terms = new Terms();
        var words = new List<(string Stem, bool Content, bool Unit)>();
        var marks = new List<(int Index, Direction Direction)>(); // direction words, as positions in `words`
        var breaks = new List<int>(); // clause breaks (, ; : . ? ! parentheses), as positions in `words`
        int position = 0;
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (char.IsLetterOrDigit(c))
            {
                int start = i;
                i = WordEnd(text, i);
                if (i < text.Length && (text[i] is '%' or '°') && (i + 1 == text.Length || !char.IsLetterOrDigit(text[i + 1])))
                {
                    i++; // "5%" and "5°" are not "5" (but "5%3" is 5 modulo 3)
                }

                var word = text[start..i];
                var lower = word.ToLowerInvariant().Replace("'", string.Empty, StringComparison.Ordinal).Replace("’", string.Empty, StringComparison.Ordinal)
                    .Replace("-", string.Empty, StringComparison.Ordinal);
                ReadWord(terms, word, lower, position++, IsUnaryMinus(text, start), words, marks);
                continue;
            }

            if (ArrowCharacters.Contains(c) || (c is '-' or '=' && i + 1 < text.Length && text[i + 1] == '>'))
            {
                marks.Add((words.Count, Direction.Forward));
                i += ArrowCharacters.Contains(c) ? 1 : 2;
                continue;
            }

            if (c is ',' or ';' or ':' or '.' or '?' or '!' or '(' or ')' or '\n')
            {
                breaks.Add(words.Count);
            }
            else if (c is '"' or '“' or '\'' or '‘' && Quoted(text, i) is { } quoted)
            {
                terms.Literals.Add(quoted);
            }
            else if (CharUnicodeInfo.GetUnicodeCategory(text, i) is UnicodeCategory.OtherSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.MathSymbol
                && !ExpressionOperators.Contains(c))
            {
                terms.Symbols.Add(char.IsHighSurrogate(c) && i + 1 < text.Length ? text.Substring(i, 2) : c.ToString());
            }

            i += char.IsHighSurrogate(c) ? 2 : 1;
        }

        ReadExpressionsAndLiterals(text, terms);
        AssignSides(terms, words, marks, breaks);
        return terms;
    }

    private static void ReadWord(Terms terms, string word, string lower, int position, bool minus, List<(string Stem, bool Content, bool Unit)> words, List<(int Index, Direction Direction)> marks)
    {
        if (s_negations.Contains(lower) || word.EndsWith("n't", StringComparison.OrdinalIgnoreCase) || word.EndsWith("n’t", StringComparison.OrdinalIgnoreCase))
        {
            terms.Negated = true;
        }

        if (lower.Any(char.IsDigit))
        {
            terms.Numbers.Add(minus && char.IsDigit(lower[0]) ? "-" + lower : lower);
        }

        var stem = Stem(lower);
        terms.Stems.Add(stem);
        if (position > 0 && char.IsUpper(word[0]) && !s_stopWords.Contains(lower))
        {
            terms.Names.Add(stem);
        }

        int member = ContrastSets.MemberOf(stem);
        if (member >= 0)
        {
            terms.Contrasts.Add(member);
        }

        if (s_directionWords.TryGetValue(lower, out var direction) && !(lower == "to" && (words.Count == 0 || !words[^1].Content)))
        {
            // "to" right after a stop word or at the start ("how to", "want to") opens an infinitive, not a destination.
            marks.Add((words.Count, direction));
            return;
        }

        words.Add((stem, !s_stopWords.Contains(lower) && !s_negations.Contains(lower), member >= 0 && ContrastSets.IsUnit(member)));
    }

    /// <summary>
    /// Marks the content words on each side of each direction word, within its clause: the side before a forward word ("5 km to", "Paris →")
    /// is the start and the side after it the end; "from" marks only what follows it as the start; "after" is the reverse of "before".
    /// A term keeps the first side it gets.
    /// </summary>
    private static void AssignSides(Terms terms, List<(string Stem, bool Content, bool Unit)> words, List<(int Index, Direction Direction)> marks, List<int> breaks)
    {
        for (int m = 0; m < marks.Count; m++)
        {
            var (at, direction) = marks[m];
            int leftStart = Math.Max(m > 0 ? marks[m - 1].Index : 0, breaks.Where(b => b <= at).DefaultIfEmpty(0).Max());
            int rightEnd = Math.Min(m + 1 < marks.Count ? marks[m + 1].Index : words.Count, breaks.Where(b => b > at).DefaultIfEmpty(words.Count).Min());
            var (before, after) = direction switch
            {
                Direction.Forward => ((Side?)Side.Start, Side.End),
                Direction.Backward or Direction.Within => (Side.End, Side.Start),
                _ => ((Side?)null, Side.Start),
            };
            for (int w = leftStart; before is { } side && w < at; w++)
            {
                Mark(terms, words[w], side, direction == Direction.Within);
            }

            for (int w = at; w < rightEnd; w++)
            {
                Mark(terms, words[w], after, direction == Direction.Within);
            }
        }

        static void Mark(Terms terms, (string Stem, bool Content, bool Unit) word, Side side, bool unitsOnly)
        {
            if (word.Content && (word.Unit || !unitsOnly))
            {
                terms.Sides.TryAdd(word.Stem, side);
            }
        }
    }

    /// <summary>
    /// Reads expressions (operands joined by operators, spaces allowed: <c>10-3</c>, <c>a / b</c>, <c>x^2 + 1</c>) and code-like words
    /// (<c>print(x)</c>, <c>user_id</c>, <c>os.path</c>, <c>--force</c>) in order, as written but lower-cased and without spaces. A hyphen between two
    /// words of two letters or more is a hyphenated word ("e-mail", "well-known"), not a minus.
    /// </summary>
    private static void ReadExpressionsAndLiterals(string text, Terms terms)
    {
        foreach (var chunk in text.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            var trimmed = chunk.TrimEnd(',', '.', '?', '!', ';', ':').TrimStart('(', '"', '\'');
            bool flag = trimmed.Length > 1 && trimmed[0] == '-' && char.IsLetter(trimmed.TrimStart('-').FirstOrDefault()); // "--force"
            if (flag || (trimmed.Length > 2 && trimmed.AsSpan(1, trimmed.Length - 2).IndexOfAny("()[]{}_.$@#") >= 0 && trimmed.Any(char.IsLetter)))
            {
                terms.Literals.Add(trimmed.ToLowerInvariant());
            }
        }

        var expression = new System.Text.StringBuilder();
        int operands = 0;
        for (int i = 0; i < text.Length;)
        {
            if (char.IsLetterOrDigit(text[i]))
            {
                int start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || (text[i] == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1]))))
                {
                    i++;
                }

                bool afterOperator = expression.Length > 0 && ExpressionOperators.Contains(expression[^1]);
                if (!afterOperator)
                {
                    Flush(expression, ref operands, terms);
                }

                expression.Append(text.AsSpan(start, i - start));
                operands++;
                continue;
            }

            if (ExpressionOperators.Contains(text[i]) && expression.Length > 0 && !ExpressionOperators.Contains(expression[^1]) && IsOperator(text, i))
            {
                expression.Append(text[i]);
            }
            else if (text[i] is not (' ' or '\t'))
            {
                Flush(expression, ref operands, terms);
            }

            i++;
        }

        Flush(expression, ref operands, terms);

        static void Flush(System.Text.StringBuilder expression, ref int operands, Terms terms)
        {
            if (expression.Length > 0 && ExpressionOperators.Contains(expression[^1]))
            {
                expression.Length--;
            }

            if (operands >= 2)
            {
                terms.Expressions.Add(expression.ToString().ToLowerInvariant());
            }

            expression.Clear();
            operands = 0;
        }
    }

    /// <summary>Whether the number starting at <paramref name="start"/> has a minus sign of its own ("-5", "is -5 > 3"; not "10-3", "10 - 3").</summary>
    private static bool IsUnaryMinus(string text, int start) =>
        start > 0 && text[start - 1] == '-' && (start < 2 || !(char.IsLetterOrDigit(text[start - 2]) || text[start - 2] == ')'));

    /// <summary>Whether the character at <paramref name="i"/> joins two operands (a hyphen inside a word of letters does not).</summary>
    private static bool IsOperator(string text, int i)
    {
        if (text[i] != '-')
        {
            return true;
        }

        int left = i;
        while (left > 0 && char.IsLetter(text[left - 1]))
        {
            left--;
        }

        int right = i + 1;
        while (right < text.Length && char.IsLetter(text[right]))
        {
            right++;
        }

        // "e-mail" and "well-known" are words; "a-b", "x - 1" and "10-3" are expressions.
        return i - left <= 1 || right - i - 1 <= 1 || (i > 0 && text[i - 1] == ' ');
    }

    /// <summary>A quoted literal starting at <paramref name="open"/>, quotes included; null for an apostrophe ("don't", "James'").</summary>
    private static string? Quoted(string text, int open)
    {
        char quote = text[open];
        if (quote is '\'' or '‘' && open > 0 && char.IsLetterOrDigit(text[open - 1]))
        {
            return null;
        }

        char close = quote switch { '“' => '”', '‘' => '’', _ => quote };
        for (int i = open + 1; i < text.Length && text[i] != '\n'; i++)
        {
            if (text[i] == close && (close == '"' || close == '”' || i + 1 >= text.Length || !char.IsLetterOrDigit(text[i + 1])))
            {
                return text[open..(i + 1)];
            }
        }

        return null;
    }

    /// <summary>The end of a word: letters, digits, apostrophes inside it ("don't") and hyphens between letters ("non-toxic").</summary>
    private static int WordEnd(string text, int i)
    {
        while (i < text.Length && (char.IsLetterOrDigit(text[i]) ||
            (text[i] is '\'' or '’' or '-' && i + 1 < text.Length && char.IsLetter(text[i + 1]) && char.IsLetter(text[i - 1]))))
        {
            i++;
        }

        return i;
    }

    private sealed class Terms
    {
        public bool Negated { get; set; }

        public List<string> Numbers { get; } = [];

        public List<string> Expressions { get; } = [];

        public List<string> Literals { get; } = [];

        public List<string> Symbols { get; } = [];

        public HashSet<string> Stems { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        public HashSet<int> Contrasts { get; } = [];

        public Dictionary<string, Side> Sides { get; } = new(StringComparer.Ordinal);
    }
}
