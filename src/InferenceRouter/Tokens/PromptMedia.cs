using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// The media a prompt holds, by kind, and the tokens <see cref="PromptTokens"/> counted for them (a reference's text, inline bytes, a
/// flat figure per image). A provider bills media by what it is (pages, seconds, pixels), which neither a URL, a file id nor base64
/// bytes tell; a budget reserves its own stated bound per item instead (<see cref="Allowance"/>).
/// </summary>
/// <remarks>A mutable value filled in by one walk of one request; not shared.</remarks>
internal struct PromptMedia
{
    public int Images;
    public int Documents;
    public int Audio;
    public int Video;

    /// <summary>Media whose kind is not known: a hosted file with no media type, <c>application/octet-stream</c>, a kind not listed.</summary>
    public int Other;

    /// <summary>The tokens <see cref="PromptTokens.Count(ITokenCounter, IEnumerable{ChatMessage}, ChatOptions?)"/> counted for these items.</summary>
    public long CountedTokens;

    public readonly bool IsEmpty => (Images | Documents | Audio | Video | Other) == 0;

    /// <summary>What to add to the counted tokens so each item counts its kind's bound instead of what was counted for it.</summary>
    public readonly long Allowance(MediaTokenBounds bounds, int? imageTokens = null) => IsEmpty ? 0 :
        (Images * (long)(imageTokens ?? bounds.Image)) + (Documents * (long)bounds.Document) + (Audio * (long)bounds.Audio) + (Video * (long)bounds.Video) +
        (Other * (long)bounds.Other) - CountedTokens;

    /// <summary>Notes one item of <paramref name="mediaType"/> for which <paramref name="counted"/> tokens were counted, and returns that count.</summary>
    public long Add(string? mediaType, long counted)
    {
        CountedTokens += counted;
        switch (TopLevel(mediaType))
        {
            case "image":
                Images++;
                break;
            case "audio":
                Audio++;
                break;
            case "video":
                Video++;
                break;
            case "text":
                Documents++;
                break;
            case "application" when !mediaType.AsSpan().EndsWith("/octet-stream", StringComparison.OrdinalIgnoreCase):
                Documents++; // PDF, office documents, JSON…
                break;
            default:
                Other++;
                break;
        }

        return counted;
    }

    /// <summary>Whether inline data of <paramref name="mediaType"/> is read as text, so that its bytes bound its tokens.</summary>
    public static bool IsText(string? mediaType) =>
        TopLevel(mediaType) == "text" || string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase);

    private static string? TopLevel(string? mediaType)
    {
        int slash = mediaType?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash <= 0)
        {
            return null;
        }

        var top = mediaType.AsSpan(0, slash);
        return top.Equals("image", StringComparison.OrdinalIgnoreCase) ? "image"
            : top.Equals("audio", StringComparison.OrdinalIgnoreCase) ? "audio"
            : top.Equals("video", StringComparison.OrdinalIgnoreCase) ? "video"
            : top.Equals("text", StringComparison.OrdinalIgnoreCase) ? "text"
            : top.Equals("application", StringComparison.OrdinalIgnoreCase) ? "application"
            : null;
    }
}
