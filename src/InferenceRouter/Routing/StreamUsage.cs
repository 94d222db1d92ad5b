using System.Text;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Collects what a stream reported about its cost: usage contents (usually in the last update) and, in case none comes, the text (for the attempt's report).</summary>
internal sealed class StreamUsage
{
    private StringBuilder? _text;

    public UsageDetails? Usage { get; private set; }

    public bool SawOutput { get; private set; }

    public string? Text => _text?.ToString();

    public void Observe(ChatResponseUpdate update)
    {
        var contents = update.Contents;
        for (int i = 0; i < contents.Count; i++)
        {
            switch (contents[i])
            {
                case UsageContent usage:
                    if (Usage is null)
                    {
                        Usage = usage.Details;
                    }
                    else
                    {
                        var sum = new UsageDetails();
                        sum.Add(Usage);
                        sum.Add(usage.Details);
                        Usage = sum;
                    }

                    SawOutput = true;
                    break;
                case TextContent text:
                    (_text ??= new StringBuilder()).Append(text.Text);
                    SawOutput = true;
                    break;
                case TextReasoningContent reasoning:
                    (_text ??= new StringBuilder()).Append(reasoning.Text);
                    SawOutput = true;
                    break;
                default:
                    SawOutput = true;
                    break;
            }
        }
    }

    /// <summary>Gets the text to count output tokens from: null when the reported usage already counts them.</summary>
    public string? TextToCount => Usage?.OutputTokenCount is null ? Text : null;
}
