using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// What the cache makes of a request: its partition (a hash of everything besides the last user message that can change the answer:
/// instructions, earlier turns, tools, response format, model and routing hints, sampling and reasoning options, other properties,
/// tenant), the normalised question, and the exact key — or why the request bypasses the cache (what cannot be keyed safely).
/// </summary>
internal readonly record struct CacheRequest(string Partition, string Prompt, string Key, string? BypassReason, bool LocalOnly = false)
{
    public bool Bypass => BypassReason is not null;

    public static CacheRequest Create(IEnumerable<ChatMessage> messages, ChatOptions? options, bool partitionByUser)
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
                if (content is not TextContent)
                {
                    return Skip("the request has non-text content");
                }
            }
        }

        var prompt = Normalize(list[^1].Text);
        if (prompt.Length == 0)
        {
            return Skip("the prompt is empty");
        }

        string partition;
        bool localOnly;
        using (var writer = new CacheKeyWriter())
        {
            for (int i = 0; i < list.Count; i++)
            {
                var message = list[i];
                writer.Write("author", message.AuthorName);
                if (i < list.Count - 1)
                {
                    writer.Write("role", message.Role.Value);
                    foreach (var content in message.Contents)
                    {
                        writer.Write("text", ((TextContent)content).Text);
                    }
                }
            }

            var hints = RoutingHints.Combine(RoutingScope.Current, options.GetRoutingHints());
            localOnly = hints.LocalOnly;
            writer.Write("tenant", hints.Tenant);
            if (partitionByUser)
            {
                writer.Write("user", hints.User);
            }

            writer.Write("route", hints.Route);
            writer.Write("policy", hints.Policy);
            writer.Write("caps", (long)hints.RequiredCapabilities);
            writer.Write("local", hints.LocalOnly);
            WriteTags(writer, "tags+", hints.RequiredTags);
            WriteTags(writer, "tags-", hints.ExcludedTags);
            if (options is not null && !TryWriteOptions(writer, options, out var unkeyable))
            {
                return Skip(unkeyable);
            }

            partition = writer.Finish();
        }

        using var key = new CacheKeyWriter();
        key.Write("partition", partition);
        key.Write("prompt", prompt);
        return new CacheRequest(partition, prompt, key.Finish(), null, localOnly);
    }

    /// <summary>Trims and collapses whitespace; case is kept (it can change meaning: "US" is not "us").</summary>
    public static string Normalize(string text)
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
        writer.Write("instructions", options.Instructions);
        writer.Write("model", options.ModelId);
        writer.Write("temperature", options.Temperature);
        writer.Write("top_p", options.TopP);
        writer.Write("top_k", options.TopK);
        writer.Write("seed", options.Seed);
        writer.Write("frequency", options.FrequencyPenalty);
        writer.Write("presence", options.PresencePenalty);
        writer.Write("max", options.MaxOutputTokens);
        writer.Write("reasoning.effort", options.Reasoning?.Effort?.ToString());
        writer.Write("reasoning.output", options.Reasoning?.Output?.ToString());
        writer.Write("parallel_tools", options.AllowMultipleToolCalls);
        writer.Write("tool_mode", options.ToolMode switch
        {
            null => null,
            RequiredChatToolMode required => "required:" + required.RequiredFunctionName,
            var mode => mode.GetType().Name,
        });
        foreach (var stop in options.StopSequences ?? [])
        {
            writer.Write("stop", stop);
        }

        switch (options.ResponseFormat)
        {
            case ChatResponseFormatJson json:
                writer.Write("format", "json");
                writer.Write("schema.name", json.SchemaName);
                writer.Write("schema.description", json.SchemaDescription);
                writer.Write("schema", json.Schema?.GetRawText());
                break;
            case ChatResponseFormatText:
                writer.Write("format", "text");
                break;
            case { } other:
                reason = $"the response format {other.GetType().Name} cannot be keyed";
                return false;
        }

        foreach (var tool in options.Tools ?? [])
        {
            if (tool is not AIFunctionDeclaration function)
            {
                // Hosted tools (web search, code interpreter, file search, MCP) answer from state the cache cannot see.
                reason = $"the call uses the hosted tool '{tool.Name}'";
                return false;
            }

            writer.Write("tool", function.Name);
            writer.Write("tool.description", function.Description);
            writer.Write("tool.schema", function.JsonSchema.GetRawText());
            writer.Write("tool.return", function.ReturnJsonSchema?.GetRawText());
        }

        if (options.AdditionalProperties is { Count: > 0 } properties)
        {
            foreach (var (name, value) in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (name is ChatOptionsCacheExtensions.CacheControlKey or ChatOptionsRoutingExtensions.HintsKey)
                {
                    continue;
                }

                // Keyed by a canonical serialisation, never ToString(): two different dictionaries must not collide.
                byte[] json;
                try
                {
                    json = value is null ? [] : JsonSerializer.SerializeToUtf8Bytes(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType()));
                }
                catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException or JsonException)
                {
                    reason = $"the additional property '{name}' cannot be serialised to key it";
                    return false;
                }

                writer.Write("prop", name);
                writer.Write("value", json);
            }
        }

        return true;
    }

    private static void WriteTags(CacheKeyWriter writer, string label, IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null)
        {
            return;
        }

        foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.OrdinalIgnoreCase))
        {
            writer.Write(label, key.ToLowerInvariant());
            writer.Write("value", value);
        }
    }

    private static CacheRequest Skip(string reason) => new(string.Empty, string.Empty, string.Empty, reason);
}
