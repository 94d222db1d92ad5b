using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace InferenceRouter;

/// <summary>Counts prompt tokens exactly with a <see cref="Tokenizer"/>, adding the chat format's per-message framing.</summary>
/// <remarks>Thread-safe. Images count as <see cref="TokensPerImage"/> tokens each (OpenAI's cost of one high-detail 1024×1024 tile set).</remarks>
public sealed class TiktokenTokenCounter : ITokenCounter
{
    /// <summary>Framing tokens per message (role and separators), as in OpenAI's chat format.</summary>
    public const int TokensPerMessage = 3;

    /// <summary>Tokens that prime the assistant's reply.</summary>
    public const int ReplyPrimingTokens = 3;

    /// <summary>Tokens counted for each image input.</summary>
    public const int TokensPerImage = 765;

    private readonly Tokenizer _tokenizer;

    /// <summary>Creates a counter over <paramref name="tokenizer"/>.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    public TiktokenTokenCounter(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
    }

    /// <inheritdoc/>
    public int CountTokens(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        int total = ReplyPrimingTokens;
        foreach (var message in messages)
        {
            total += TokensPerMessage;
            foreach (var content in message.Contents)
            {
                total += content switch
                {
                    TextContent text => _tokenizer.CountTokens(text.Text),
                    TextReasoningContent reasoning => _tokenizer.CountTokens(reasoning.Text),
                    DataContent data when data.HasTopLevelMediaType("image") => TokensPerImage,
                    UriContent uri when uri.HasTopLevelMediaType("image") => TokensPerImage,
                    _ => 0,
                };
            }
        }

        return total;
    }
}
