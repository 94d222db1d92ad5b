using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// What the cache makes of a request: its partition (a hash of everything besides the last user message that can change the answer:
/// instructions, earlier turns, tools, response format, model and routing hints, sampling and reasoning options, other properties,
/// tenant), the question as sent (Unicode NFC, nothing else changed), and the exact key — or why the request bypasses the cache (what
/// cannot be keyed safely).
/// </summary>
/// <remarks>
/// The exact key is the question as sent, whitespace included: <c>print(total)</c> inside a loop and after it, <c>'a  b'</c> and
/// <c>'a b'</c>, valid and invalid YAML are different questions. Only the semantic tier looks past whitespace
/// (<see cref="EmbeddingText"/>), and its hits must then pass <see cref="VerbatimParts"/>.
/// </remarks>
internal readonly record struct CacheRequest(string Partition, string Prompt, string Key, string? BypassReason, bool LocalOnly = false)
{
    private static readonly ChatOptions s_defaultOptions = new(); // read, never changed

    public bool Bypass => BypassReason is not null;

    /// <summary>Gets what the semantic tier embeds: the question with whitespace trimmed and collapsed (the embedder cannot see it anyway).</summary>
    public string EmbeddingText => CollapseWhitespace(Prompt);

    public static CacheRequest Create(IEnumerable<ChatMessage> messages, ChatOptions? options, CallContext context, bool partitionByUser)
    {
        if (BypassReasonOf(options) is { } reason)
        {
            return Skip(reason);
        }

        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        if (list.Count == 0 || list[^1].Role != ChatRole.User)
        {
            return Skip("the last message is not the user's");
        }

        foreach (var message in list)
        {
            foreach (var content in message.Contents)
            {
                if (content is not TextContent text)
                {
                    return Skip("the request has non-text content");
                }

                if (!Utf16Text.IsWellFormed(text.Text))
                {
                    // Checked before anything normalises or encodes it (Normalize throws; UTF-8 writes U+FFFD): the call goes on uncached.
                    return Skip("a message's text is not well-formed UTF-16 (a lone surrogate)");
                }
            }
        }

        // As sent: only canonically equivalent Unicode (NFC) is one question. Normalize returns the same string when it is already NFC.
        var question = list[^1];
        var prompt = question.Text.Normalize(NormalizationForm.FormC);
        if (prompt.AsSpan().Trim().Length == 0)
        {
            return Skip("the prompt is empty");
        }

        string partition;
        bool localOnly;
        using (var writer = new CacheKeyWriter())
        {
            // A fixed order of parts, lists prefixed by their counts (CacheKeyWriter): no two different requests write the same bytes.
            writer.WriteCount(list.Count);
            for (int i = 0; i < list.Count; i++)
            {
                var message = list[i];
                writer.Write(message.AuthorName);
                if (i < list.Count - 1)
                {
                    writer.Write(message.Role.Value);
                    writer.WriteCount(message.Contents.Count);
                    foreach (var content in message.Contents)
                    {
                        writer.Write(((TextContent)content).Text);
                    }
                }
            }

            var hints = context.Hints;
            localOnly = hints.LocalOnly;
            writer.Write(hints.Tenant);
            if (partitionByUser)
            {
                writer.Write(hints.User);
            }

            writer.Write(hints.Route);
            writer.Write(hints.Policy);
            writer.Write((long)hints.RequiredCapabilities);
            writer.Write(hints.LocalOnly);
            WriteTags(writer, hints.RequiredTags);
            WriteTags(writer, hints.ExcludedTags);
            // No options key as default options do: the same call made with null or new ChatOptions() is one entry.
            if (!TryWriteOptions(writer, options ?? s_defaultOptions, out var unkeyable))
            {
                return Skip(unkeyable);
            }

            if (writer.WroteMalformedText)
            {
                return Skip("the instructions, tools, hints or property names hold text that is not well-formed UTF-16 (a lone surrogate)");
            }

            partition = writer.Finish();
        }

        using var key = new CacheKeyWriter();
        key.Write(partition);
        if (question.Contents.Count == 1)
        {
            key.Write(prompt);
        }
        else
        {
            // Several text parts are sent as several parts: ["a", "b"] and ["ab"] are different requests. The count is written negative,
            // where one part's length prefix stands, so no one-part question writes the same bytes.
            key.WriteCount(-question.Contents.Count);
            foreach (var content in question.Contents)
            {
                key.Write(((TextContent)content).Text.Normalize(NormalizationForm.FormC));
            }
        }

        // A private call's key is marked so that no shared store sends even this fingerprint of its prompt anywhere (CacheKeys).
        return new CacheRequest(partition, prompt, localOnly ? CacheKeys.OnDevicePrefix + key.Finish() : key.Finish(), null, localOnly);
    }

    /// <summary>Trims and collapses whitespace; case is kept (it can change meaning: "US" is not "us"). For embedding only, never for keys.</summary>
    public static string CollapseWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        bool space = false;
        foreach (var c in text.AsSpan().Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Requests whose answer depends on what the cache cannot see or key: never looked up, never stored.</summary>
    private static string? BypassReasonOf(ChatOptions? options) => options switch
    {
        null => null,
        { ConversationId: not null } => "the call continues a server-side conversation",
        { ContinuationToken: not null } => "the call continues a background response",
        { AllowBackgroundResponses: true } => "the call allows background responses",
        { RawRepresentationFactory: not null } => "the call builds its own provider request (RawRepresentationFactory)",
        _ => null,
    };

    private static bool TryWriteOptions(CacheKeyWriter writer, ChatOptions options, out string reason)
    {
        reason = string.Empty;
        writer.Write(options.Instructions);
        writer.Write(options.ModelId);
        writer.Write(options.Temperature);
        writer.Write(options.TopP);
        writer.Write(options.TopK);
        writer.Write(options.Seed);
        writer.Write(options.FrequencyPenalty);
        writer.Write(options.PresencePenalty);
        writer.Write(options.MaxOutputTokens);
        writer.Write(options.Reasoning?.Effort?.ToString());
        writer.Write(options.Reasoning?.Output?.ToString());
        writer.Write(options.AllowMultipleToolCalls);
        writer.Write(options.ToolMode switch
        {
            null => null,
            RequiredChatToolMode required => "required:" + required.RequiredFunctionName,
            var mode => mode.GetType().Name,
        });
        writer.WriteCount(options.StopSequences?.Count ?? -1);
        foreach (var stop in options.StopSequences ?? [])
        {
            writer.Write(stop);
        }

        switch (options.ResponseFormat)
        {
            case null:
                writer.Write((string?)null);
                break;
            case ChatResponseFormatJson json:
                writer.Write("json");
                writer.Write(json.SchemaName);
                writer.Write(json.SchemaDescription);
                writer.Write(json.Schema?.GetRawText());
                break;
            case ChatResponseFormatText:
                writer.Write("text");
                break;
            case { } other:
                reason = $"the response format {other.GetType().Name} cannot be keyed";
                return false;
        }

        writer.WriteCount(options.Tools?.Count ?? -1);
        foreach (var tool in options.Tools ?? [])
        {
            if (tool is not AIFunctionDeclaration function)
            {
                // Hosted tools (web search, code interpreter, file search, MCP) answer from state the cache cannot see.
                reason = $"the call uses the hosted tool '{tool.Name}'";
                return false;
            }

            writer.Write(function.Name);
            writer.Write(function.Description);
            writer.Write(function.JsonSchema.GetRawText());
            writer.Write(function.ReturnJsonSchema?.GetRawText());
        }

        var keyed = options.AdditionalProperties;
        // No dictionary and one holding only the library's own entries key alike (layers may drop an emptied dictionary when they copy).
        writer.WriteCount(keyed is null ? 0 : keyed.Count - (keyed.ContainsKey(ChatOptionsCacheExtensions.CacheControlKey) ? 1 : 0) - (keyed.ContainsKey(ChatOptionsRoutingExtensions.HintsKey) ? 1 : 0) - (keyed.ContainsKey(CallContext.OptionsKey) ? 1 : 0));
        if (keyed is { Count: > 0 } properties)
        {
            foreach (var (name, value) in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (name is ChatOptionsCacheExtensions.CacheControlKey or ChatOptionsRoutingExtensions.HintsKey or CallContext.OptionsKey)
                {
                    continue;
                }

                // Keyed by a canonical serialisation, never ToString(): two different dictionaries must not collide.
                // A value whose JSON leaves part of it out ({} for a ValueTuple or a public-field class) would make "eu" and "us" one key.
                byte[] json;
                try
                {
                    if (FaithfulJson.Problem(value, AIJsonUtilities.DefaultOptions) is { } problem)
                    {
                        reason = $"the additional property '{name}' cannot be keyed faithfully ({problem})";
                        return false;
                    }

                    json = value is null ? [] : JsonSerializer.SerializeToUtf8Bytes(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType()));
                }
                catch (Exception)
                {
                    // Whatever a value's getters or converter throw, the cache never fails the call: it goes on uncached.
                    reason = $"the additional property '{name}' cannot be serialised to key it";
                    return false;
                }

                writer.Write(name);
                writer.Write(json);
            }
        }

        return true;
    }

    private static void WriteTags(CacheKeyWriter writer, IReadOnlyDictionary<string, string>? tags)
    {
        writer.WriteCount(tags?.Count ?? -1);
        if (tags is null)
        {
            return;
        }

        foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.OrdinalIgnoreCase))
        {
            writer.Write(key.ToLowerInvariant());
            writer.Write(value);
        }
    }

    private static CacheRequest Skip(string reason) => new(string.Empty, string.Empty, string.Empty, reason);
}
