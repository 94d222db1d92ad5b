using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// What a stream produced, for the route's time per token and the call's cost when no budget prices it: the usage the provider
/// reports, else one token per update with text.
/// </summary>
internal struct StreamOutput
{
    private long _reported;
    private long _textUpdates;

    /// <summary>Gets the output tokens seen: the reported count, else the updates with text.</summary>
    public readonly long Tokens => _reported > 0 ? _reported : _textUpdates;

    /// <summary>Gets the usage the provider reported (the last report), or null.</summary>
    public UsageDetails? Usage { get; private set; }

    /// <summary>
    /// Looks at one update, once for everything the stream asks of it: returns whether it carries content or usage (not an empty text),
    /// whatever its finish reason (<see cref="ProviderAnswer.HasContent"/>: an update without any may be an error event).
    /// </summary>
    public bool Observe(ChatResponseUpdate update)
    {
        bool text = false, content = false;
        var contents = update.Contents;
        for (int i = 0; i < contents.Count; i++)
        {
            switch (contents[i])
            {
                case TextContent { Text.Length: 0 }:
                    break;
                case TextContent:
                    text = content = true;
                    break;
                case UsageContent usage:
                    Usage = usage.Details;
                    _reported = usage.Details.OutputTokenCount ?? _reported;
                    content = true;
                    break;
                default:
                    content = true;
                    break;
            }
        }

        if (text)
        {
            _textUpdates++;
        }

        return content;
    }
}
