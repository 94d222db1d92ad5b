using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Copies a caller's <see cref="ChatOptions"/> for a provider without the router's own entry in <see cref="ChatOptions.AdditionalProperties"/>.
/// Unlike <see cref="ChatOptions.Clone"/>, the dictionary is not copied only to remove that entry: when it holds nothing else the copy
/// has none (about 450 bytes less per routed call). Collections are shared, not copied: providers read them, never change them.
/// </summary>
internal static class ProviderOptions
{
    /// <summary>Copies <paramref name="options"/> without <paramref name="removedKey"/>; a derived options type is cloned (its own state kept).</summary>
    public static ChatOptions CopyWithout(ChatOptions options, string removedKey)
    {
        if (options.GetType() != typeof(ChatOptions))
        {
            var clone = options.Clone();
            if (clone.AdditionalProperties is { } cloned && cloned.Remove(removedKey) && cloned.Count == 0)
            {
                clone.AdditionalProperties = null;
            }

            return clone;
        }

        // Every settable property of ChatOptions (a test checks none is missed when M.E.AI adds one).
        return new ChatOptions
        {
            AdditionalProperties = Without(options.AdditionalProperties, removedKey),
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

    private static AdditionalPropertiesDictionary? Without(AdditionalPropertiesDictionary? properties, string removedKey)
    {
        if (properties is null || (properties.Count == 1 && properties.ContainsKey(removedKey)))
        {
            return null;
        }

        if (!properties.ContainsKey(removedKey))
        {
            return properties.Clone();
        }

        var copy = properties.Clone();
        copy.Remove(removedKey);
        return copy;
    }
}
