using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Estimates prompt tokens as one per four characters of text plus per-message framing; no tokenizer needed.</summary>
/// <remarks>Thread-safe and allocation-free. English text averages about four characters per token in BPE vocabularies; other scripts use more tokens.</remarks>
public sealed class EstimatedTokenCounter : ITokenCounter
{
    /// <summary>The characters assumed per token.</summary>
    public const int CharactersPerToken = 4;

    /// <inheritdoc/>
    public int CountTokens(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        int total = TiktokenTokenCounter.ReplyPrimingTokens;
        foreach (var message in messages)
        {
            total += TiktokenTokenCounter.TokensPerMessage;
            foreach (var content in message.Contents)
            {
                total += content switch
                {
                    TextContent text => (text.Text.Length + CharactersPerToken - 1) / CharactersPerToken,
                    TextReasoningContent reasoning => (reasoning.Text.Length + CharactersPerToken - 1) / CharactersPerToken,
                    DataContent data when data.HasTopLevelMediaType("image") => TiktokenTokenCounter.TokensPerImage,
                    UriContent uri when uri.HasTopLevelMediaType("image") => TiktokenTokenCounter.TokensPerImage,
                    _ => 0,
                };
            }
        }

        return total;
    }
}
