using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Counts a stream's output tokens for the route's time per token: the usage the provider reports, else one per update with text.</summary>
internal struct StreamOutput
{
    private long _reported;
    private long _textUpdates;

    /// <summary>Gets the output tokens seen.</summary>
    public readonly long Tokens => _reported > 0 ? _reported : _textUpdates;

    /// <summary>Looks at one update.</summary>
    public void Observe(ChatResponseUpdate update)
    {
        bool text = false;
        foreach (var content in update.Contents)
        {
            if (content is UsageContent { Details.OutputTokenCount: > 0 and var tokens })
            {
                _reported = tokens;
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
