namespace InferenceRouter;

/// <summary>
/// Whether text is well-formed UTF-16 (every surrogate in a pair). Text that is not — a prompt cut mid-emoji, "Is \uD83C safe?" —
/// cannot be normalised (<see cref="string.Normalize()"/> throws) and turns into U+FFFD when encoded as UTF-8 (keys, Redis JSON), so
/// two different texts would encode alike. The cache lets such a request through untouched and never stores such an answer.
/// </summary>
internal static class Utf16Text
{
    /// <summary>Returns whether <paramref name="text"/> holds no lone surrogate. Vectorised search; allocates nothing.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        while (text.IndexOfAnyInRange('\uD800', '\uDFFF') is var at and >= 0)
        {
            if (!char.IsHighSurrogate(text[at]) || at + 1 >= text.Length || !char.IsLowSurrogate(text[at + 1]))
            {
                return false;
            }

            text = text[(at + 2)..];
        }

        return true;
    }
}
