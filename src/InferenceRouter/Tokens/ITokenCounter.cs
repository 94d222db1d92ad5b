namespace InferenceRouter;

/// <summary>Counts the tokens of text for one family of models.</summary>
/// <remarks>
/// Budgets reserve with these counts, so a counter must be exact for its model or never count fewer tokens than the model would
/// (<see cref="Utf8UpperBoundTokenCounter"/>). <see cref="PromptTokens.Count"/> walks a whole request with a counter. Implementations
/// must be thread-safe; the router calls them concurrently.
/// </remarks>
public interface ITokenCounter
{
    /// <summary>Counts the tokens of <paramref name="text"/>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The number of tokens: exact for the model's tokenizer, or an upper bound.</returns>
    int CountTokens(ReadOnlySpan<char> text);
}
