namespace InferenceRouter;

/// <summary>Excludes routes whose context window cannot hold the prompt plus the requested output.</summary>
/// <remarks>
/// Cheap first: a bound of three tokens per character clears most requests without tokenizing. Only a prompt near a window is
/// counted with the route's tokenizer (<see cref="RouteDescriptor.TokenCounter"/>), once per tokenizer per call.
/// </remarks>
internal sealed class ContextWindowFilter : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "context-window";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        long upperBound = -1;
        for (int i = 0; i < selection.Count; i++)
        {
            var route = selection.Routes[i];
            if (route.Descriptor.ContextWindow is not { } window || selection.IsExcluded(i))
            {
                continue;
            }

            long output = selection.Options?.MaxOutputTokens ?? 1;
            if (upperBound < 0)
            {
                upperBound = selection.PromptTokenUpperBound;
            }

            if (upperBound + output <= window)
            {
                continue;
            }

            long prompt = selection.CountPromptTokens(route);
            if (prompt + output > window)
            {
                selection.Exclude(i, this, selection.IsExplaining
                    ? $"prompt {prompt} + output {output} tokens exceed the {window}-token window"
                    : "context window too small");
            }
        }
    }
}
