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

    /// <summary>Gets the output tokens seen.</summary>
    public readonly long Tokens => _reported > 0 ? _reported : _textUpdates;

    /// <summary>Gets the usage the provider reported (the last report), or null.</summary>
    public UsageDetails? Usage { get; private set; }

    /// <summary>Gets the usage to price the stream with: the reported one, else the update count as the output tokens.</summary>
    public readonly UsageDetails? UsageOrEstimate => Usage ?? (_textUpdates > 0 ? new UsageDetails { OutputTokenCount = _textUpdates } : null);

    /// <summary>Looks at one update.</summary>
    public void Observe(ChatResponseUpdate update)
    {
        bool text = false;
        foreach (var content in update.Contents)
        {
            if (content is UsageContent usage)
            {
                Usage = usage.Details;
                _reported = usage.Details.OutputTokenCount ?? _reported;
            }
            else if (content is TextContent { Text.Length: > 0 })
            {
                text = true;
            }
        }

        if (text)
        {
            _textUpdates++;
        }
    }
}
