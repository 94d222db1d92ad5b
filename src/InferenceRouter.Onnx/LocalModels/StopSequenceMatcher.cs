using System.Text;

namespace InferenceRouter;

/// <summary>
/// Finds stop sequences in generated text even when they span several tokens: text that could still turn into a stop sequence is held
/// back until it cannot, and nothing from a stop sequence on is ever emitted.
/// </summary>
internal sealed class StopSequenceMatcher(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _pending = new();

    public bool Stopped { get; private set; }

    /// <summary>Adds a decoded piece; returns the text safe to emit now.</summary>
    public string Push(string piece)
    {
        _pending.Append(piece);
        var text = _pending.ToString();
        int cut = -1;
        foreach (var stop in stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
            }
        }

        _pending.Clear();
        if (cut >= 0)
        {
            Stopped = true;
            return text[..cut];
        }

        int keep = 0;
        foreach (var stop in stops)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > keep; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    keep = length;
                    break;
                }
            }
        }

        _pending.Append(text, text.Length - keep, keep);
        return keep == 0 ? text : text[..^keep];
    }

    /// <summary>Returns the text held back when generation ends without a stop sequence.</summary>
    public string Flush()
    {
        var rest = _pending.ToString();
        _pending.Clear();
        return rest;
    }
}
