using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Counts the prompt tokens of a chat request for one family of models.</summary>
/// <remarks>Implementations must be thread-safe; the router calls them concurrently.</remarks>
public interface ITokenCounter
{
    /// <summary>Counts the tokens the model will read for <paramref name="messages"/>, including per-message framing.</summary>
    /// <param name="messages">The request's messages.</param>
    /// <returns>The number of prompt tokens, exact for the model's tokenizer or a documented estimate.</returns>
    int CountTokens(IEnumerable<ChatMessage> messages);
}
