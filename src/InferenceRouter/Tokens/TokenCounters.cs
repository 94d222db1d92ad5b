namespace InferenceRouter;

/// <summary>The token counter the router falls back to when a route names none.</summary>
/// <remarks>Exact counters come with the providers that know their tokenizers, e.g. <c>OpenAITokenCounters</c> in <c>InferenceRouter.OpenAI</c>.</remarks>
public static class TokenCounters
{
    /// <summary>Gets an upper bound (one token per UTF-8 byte) for models whose tokenizer is not at hand: budgets over it stay safe.</summary>
    public static ITokenCounter UpperBound { get; } = new Utf8UpperBoundTokenCounter();
}
