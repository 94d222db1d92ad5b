namespace InferenceRouter;

/// <summary>
/// A provider SDK's rule for bounding the request a <see cref="Microsoft.Extensions.AI.ChatOptions.RawRepresentationFactory"/> built: it
/// holds it to <see cref="Microsoft.Extensions.AI.ChatOptions.MaxOutputTokens"/> (lowering every field of the SDK's request type that raises
/// the output the provider bills: OpenAI's <c>max_completion_tokens</c>, Anthropic's <c>max_tokens</c>, Ollama's <c>num_predict</c>), and
/// measures the input it carries of its own (a system prompt, messages, tools).
/// </summary>
/// <remarks>
/// M.E.AI's adapters let the raw request's own values win over <see cref="Microsoft.Extensions.AI.ChatOptions"/>, so without this a raw
/// factory can ask for more output, and send more input, than a budget reserved. A route's client declares that it holds raw requests to the call's output
/// limit by answering <c>GetService(typeof(IRawRequestOutputLimiter))</c>
/// (<see cref="RawRequestOutputLimitChatClientExtensions.WithRawRequestOutputLimit"/>; the provider packages' <c>AsRouteClient</c> do);
/// budgets trust that limit only on such clients. Implementations must be thread-safe.
/// </remarks>
public interface IRawRequestOutputLimiter
{
    /// <summary>Returns <paramref name="rawRequest"/> with nothing in it asking for more than <paramref name="maxOutputTokens"/> output tokens.</summary>
    /// <param name="rawRequest">What the caller's factory returned: the SDK's request type, or anything else (returned unchanged; the SDK ignores it).</param>
    /// <param name="maxOutputTokens">The call's output limit.</param>
    /// <returns>The request to send (the same instance, changed, or a copy).</returns>
    /// <exception cref="InvalidOperationException">The request asks for something the limit cannot bound (e.g. several choices).</exception>
    object? Limit(object? rawRequest, int maxOutputTokens);

    /// <summary>
    /// Returns an upper bound on the input tokens <paramref name="rawRequest"/> itself adds to the call (its own system prompt, messages,
    /// tools or anything else it sends besides what the adapter builds from the call's messages and options): the UTF-8 bytes of what it
    /// serialises to, since no tokenizer makes more tokens of ordinary text than it has bytes. A budget reserves it as input.
    /// </summary>
    /// <param name="rawRequest">What the caller's factory returned: the SDK's request type, or anything else (0: the SDK ignores it).</param>
    /// <returns>The bound, zero or more.</returns>
    long CountInputTokenBound(object? rawRequest);
}
