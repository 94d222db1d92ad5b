using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Copies a caller's <see cref="ChatOptions"/> for a provider without the router's own entries in <see cref="ChatOptions.AdditionalProperties"/>
/// (the hints and the captured <see cref="CallContext"/>). Unlike <see cref="ChatOptions.Clone"/>, the dictionary is not copied only to
/// remove them: when it holds nothing else the copy has none (about 450 bytes less per routed call). Collections are shared, not copied:
/// providers read them, never change them.
/// </summary>
internal static class ProviderOptions
{
    /// <summary>Whether <paramref name="options"/> hold an entry of the router's.</summary>
    public static bool HasRouterEntries(ChatOptions? options) =>
        options?.AdditionalProperties is { Count: > 0 } properties &&
        (properties.ContainsKey(ChatOptionsRoutingExtensions.HintsKey) || properties.ContainsKey(CallContext.OptionsKey));

    /// <summary>Copies <paramref name="options"/> without the router's entries; a derived options type is cloned (its own state kept).</summary>
    public static ChatOptions CopyWithoutRouterEntries(ChatOptions options)
    {
        if (options.GetType() != typeof(ChatOptions))
        {
            var clone = options.Clone();
            if (ReferenceEquals(clone.AdditionalProperties, options.AdditionalProperties))
            {
                clone.AdditionalProperties = options.AdditionalProperties?.Clone(); // a derived Clone that shares it must not let us change the caller's
            }

            if (clone.AdditionalProperties is { } cloned)
            {
                cloned.Remove(ChatOptionsRoutingExtensions.HintsKey);
                cloned.Remove(CallContext.OptionsKey);
                if (cloned.Count == 0)
                {
                    clone.AdditionalProperties = null;
                }
            }

            return clone;
        }

        // Every settable property of ChatOptions (a test checks none is missed when M.E.AI adds one).
        return new ChatOptions
        {
            AdditionalProperties = WithoutRouterEntries(options.AdditionalProperties),
            AllowBackgroundResponses = options.AllowBackgroundResponses,
            AllowMultipleToolCalls = options.AllowMultipleToolCalls,
            ContinuationToken = options.ContinuationToken,
            ConversationId = options.ConversationId,
            FrequencyPenalty = options.FrequencyPenalty,
            Instructions = options.Instructions,
            MaxOutputTokens = options.MaxOutputTokens,
            ModelId = options.ModelId,
            PresencePenalty = options.PresencePenalty,
            RawRepresentationFactory = options.RawRepresentationFactory,
            Reasoning = options.Reasoning,
            ResponseFormat = options.ResponseFormat,
            Seed = options.Seed,
            StopSequences = options.StopSequences,
            Temperature = options.Temperature,
            ToolMode = options.ToolMode,
            Tools = options.Tools,
            TopK = options.TopK,
            TopP = options.TopP,
        };
    }

    private static AdditionalPropertiesDictionary? WithoutRouterEntries(AdditionalPropertiesDictionary? properties)
    {
        if (properties is null)
        {
            return null;
        }

        int ours = (properties.ContainsKey(ChatOptionsRoutingExtensions.HintsKey) ? 1 : 0) + (properties.ContainsKey(CallContext.OptionsKey) ? 1 : 0);
        if (properties.Count == ours)
        {
            return null;
        }

        var copy = properties.Clone();
        copy.Remove(ChatOptionsRoutingExtensions.HintsKey);
        copy.Remove(CallContext.OptionsKey);
        return copy;
    }
}
