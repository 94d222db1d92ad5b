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
        options is ContextChatOptions ||
        (options?.AdditionalProperties is { Count: > 0 } properties &&
        (properties.ContainsKey(ChatOptionsRoutingExtensions.HintsKey) || properties.ContainsKey(CallContext.OptionsKey)));

    /// <summary>
    /// Copies <paramref name="options"/> without the router's entries (a <see cref="ContextChatOptions"/> becomes plain options); another
    /// derived options type is cloned (its own state kept).
    /// </summary>
    public static ChatOptions CopyWithoutRouterEntries(ChatOptions options)
    {
        if (!IsPlain(options))
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

        return CopySettings(options, new ChatOptions());
    }

    /// <summary>Whether <paramref name="options"/> are plain <see cref="ChatOptions"/> or ours (no state of a derived type to keep).</summary>
    public static bool IsPlain(ChatOptions options) => options.GetType() == typeof(ChatOptions) || options is ContextChatOptions;

    /// <summary>
    /// Copies every setting of plain <paramref name="options"/> into <paramref name="copy"/> (a new instance), without the router's entries
    /// in the dictionary (which is copied only when something else is in it).
    /// </summary>
    public static ChatOptions CopySettings(ChatOptions options, ChatOptions copy)
    {
        // Every settable property of ChatOptions (a test checks none is missed when M.E.AI adds one).
        copy.AdditionalProperties = WithoutRouterEntries(options.AdditionalProperties);
        copy.AllowBackgroundResponses = options.AllowBackgroundResponses;
        copy.AllowMultipleToolCalls = options.AllowMultipleToolCalls;
        copy.ContinuationToken = options.ContinuationToken;
        copy.ConversationId = options.ConversationId;
        copy.FrequencyPenalty = options.FrequencyPenalty;
        copy.Instructions = options.Instructions;
        copy.MaxOutputTokens = options.MaxOutputTokens;
        copy.ModelId = options.ModelId;
        copy.PresencePenalty = options.PresencePenalty;
        copy.RawRepresentationFactory = options.RawRepresentationFactory;
        copy.Reasoning = options.Reasoning;
        copy.ResponseFormat = options.ResponseFormat;
        copy.Seed = options.Seed;
        copy.StopSequences = options.StopSequences;
        copy.Temperature = options.Temperature;
        copy.ToolMode = options.ToolMode;
        copy.Tools = options.Tools;
        copy.TopK = options.TopK;
        copy.TopP = options.TopP;
        return copy;
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
