using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// The call's own text a failure echoes. Quoting is a convention, not a rule: a server may repeat the prompt bare
/// (<c>cannot process the message Tell me about…</c>). When an attempt fails the router compares the failure's messages with the call's
/// messages and remembers, per exception, the runs of text they share; every later repetition of that exception's text (logs, traces,
/// <see cref="RouteAttempt.ToString"/>, <see cref="AllRoutesFailedException"/>) removes them.
/// </summary>
internal static partial class ErrorText
{
    /// <summary>The shortest shared run counted as an echo (a whole message shorter than this counts when it is repeated whole).</summary>
    internal const int MinEchoLength = 16;

    /// <summary>Messages shorter than this are not looked for: a word or two is not content worth hiding, and would hide the provider's words.</summary>
    private const int MinMessageLength = 6;

    /// <summary>How much of the call's text is compared (failures only; an echo of text beyond it is left to quotes and the length limit).</summary>
    private const int MaxComparedLength = 256 * 1024;

    private static readonly ConditionalWeakTable<Exception, string[]> s_echoes = [];

    /// <summary>
    /// Every text a call sends that a server could repeat: each message's text, reasoning, function-call arguments and function results,
    /// and the options' instructions and tool descriptions. One list for every echo check, so no kind of content is forgotten by one.
    /// </summary>
    /// <param name="messages">The call's messages.</param>
    /// <param name="options">The call's options; may be null.</param>
    /// <returns>The texts, lazily.</returns>
    public static IEnumerable<string> TextsOf(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        if (options?.Instructions is { } instructions)
        {
            yield return instructions;
        }

        foreach (var tool in options?.Tools ?? [])
        {
            yield return tool.Description;
        }

        foreach (var message in messages)
        {
            yield return message.Text;
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextReasoningContent reasoning:
                        yield return reasoning.Text;
                        break;
                    case FunctionCallContent call:
                        foreach (var argument in call.Arguments ?? new Dictionary<string, object?>())
                        {
                            yield return ValueText(argument.Value);
                        }

                        break;
                    case FunctionResultContent result:
                        yield return ValueText(result.Result);
                        break;
                }
            }
        }
    }

    private static string ValueText(object? value)
    {
        switch (value)
        {
            case null:
                return string.Empty;
            case string text:
                return text;
            case System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } element:
                return element.GetString() ?? string.Empty;
            case System.Text.Json.JsonElement element:
                return element.GetRawText();
            default:
                try
                {
                    return System.Text.Json.JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType()));
                }
                catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException or System.Text.Json.JsonException)
                {
                    return value.ToString() ?? string.Empty;
                }
        }
    }

    /// <summary>Finds, in <paramref name="error"/> and its inner exceptions, the text they share with the call's, to remove it wherever it is repeated.</summary>
    /// <param name="error">A failed attempt's exception.</param>
    /// <param name="texts">The call's texts (<see cref="TextsOf"/>).</param>
    public static void Observe(Exception error, IEnumerable<string> texts)
    {
        int depth = 0;
        for (var e = error; e is not null && depth < 5; e = e.InnerException, depth++)
        {
            if (!s_echoes.TryGetValue(e, out _) && FindEchoes(e.Message, texts) is { Length: > 0 } echoes)
            {
                s_echoes.AddOrUpdate(e, echoes);
            }
        }
    }

    /// <summary>Removes the call's text from <paramref name="text"/>, then scrubs it as <see cref="Scrub(string?)"/> does.</summary>
    /// <param name="text">Provider text, e.g. an error event's message.</param>
    /// <param name="texts">The call's texts (<see cref="TextsOf"/>).</param>
    /// <returns>The scrubbed text.</returns>
    public static string Scrub(string? text, IEnumerable<string> texts) =>
        string.IsNullOrEmpty(text) ? string.Empty : Scrub(RemoveEchoes(text, FindEchoes(text, texts)));

    private static string ScrubMessageOf(Exception error) =>
        Scrub(s_echoes.TryGetValue(error, out var echoes) ? RemoveEchoes(error.Message, echoes) : error.Message);

    private static string RemoveEchoes(string text, string[] echoes)
    {
        foreach (var echo in echoes)
        {
            text = text.Replace(echo, "…", StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>The runs of <paramref name="text"/> (its first part, what scrubbing keeps) also found in the messages, longest first.</summary>
    private static string[] FindEchoes(string text, IEnumerable<string> texts)
    {
        if (text.Length < MinMessageLength)
        {
            return [];
        }

        var scanned = text.AsSpan(0, Math.Min(text.Length, MaxLength * 20));
        bool[]? covered = null;
        int budget = MaxComparedLength;
        foreach (var content in texts)
        {
            if (content is null || content.Length < MinMessageLength || budget <= 0)
            {
                continue;
            }

            var source = content.AsSpan(0, Math.Min(content.Length, budget));
            budget -= source.Length;
            int k = Math.Min(MinEchoLength, source.Length);
            if (k <= scanned.Length)
            {
                MarkSharedWindows(scanned, source, k, ref covered);
            }
        }

        if (covered is null)
        {
            return [];
        }

        var runs = new List<string>();
        for (int start = 0; start < covered.Length; start++)
        {
            if (!covered[start])
            {
                continue;
            }

            int end = start;
            while (end < covered.Length && covered[end])
            {
                end++;
            }

            runs.Add(text[start..end]);
            start = end;
        }

        return [.. runs.Distinct(StringComparer.Ordinal).OrderByDescending(r => r.Length)];
    }

    /// <summary>
    /// Marks every window of <paramref name="k"/> characters of <paramref name="text"/> that occurs in <paramref name="source"/>:
    /// Rabin–Karp, the text's windows hashed once, the source's rolled over once (linear in both; each text window verified once).
    /// </summary>
    private static void MarkSharedWindows(ReadOnlySpan<char> text, ReadOnlySpan<char> source, int k, ref bool[]? covered)
    {
        const ulong Base = 1_000_003;
        ulong top = 1; // Base^(k-1)
        for (int i = 1; i < k; i++)
        {
            top *= Base;
        }

        // Windows of the text by hash: the first index of each hash, the next index with the same hash.
        var first = new Dictionary<ulong, int>();
        var next = new int[text.Length - k + 1];
        ulong hash = 0;
        for (int i = 0; i < text.Length; i++)
        {
            hash = i < k ? (hash * Base) + text[i] : ((hash - (text[i - k] * top)) * Base) + text[i];
            if (i >= k - 1)
            {
                int window = i - k + 1;
                next[window] = first.TryGetValue(hash, out int previous) ? previous : -1;
                first[hash] = window;
            }
        }

        hash = 0;
        for (int j = 0; j < source.Length && first.Count > 0; j++)
        {
            hash = j < k ? (hash * Base) + source[j] : ((hash - (source[j - k] * top)) * Base) + source[j];
            if (j < k - 1 || !first.TryGetValue(hash, out int window))
            {
                continue;
            }

            // Mark the text's windows equal to this one and drop them (each is verified once); keep those that only collide.
            var piece = source.Slice(j - k + 1, k);
            int kept = -1;
            for (int w = window; w >= 0;)
            {
                int following = next[w];
                if (text.Slice(w, k).SequenceEqual(piece))
                {
                    covered ??= new bool[text.Length];
                    Array.Fill(covered, true, w, k);
                }
                else
                {
                    next[w] = kept;
                    kept = w;
                }

                w = following;
            }

            if (kept < 0)
            {
                first.Remove(hash);
            }
            else
            {
                first[hash] = kept;
            }
        }
    }
}
