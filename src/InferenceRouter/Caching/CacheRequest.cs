using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// What the cache makes of a request: its partition (a hash of everything except the last user message that shapes the answer:
/// instructions, earlier turns, tools, response format, model or route group, sampling options, tenant), the normalised question, and
/// the exact key — or why the request bypasses the cache.
/// </summary>
internal readonly record struct CacheRequest(string Partition, string Prompt, string Key, string? BypassReason)
{
    public bool Bypass => BypassReason is not null;

    public static CacheRequest Create(IEnumerable<ChatMessage> messages, ChatOptions? options, bool partitionByUser)
    {
        if (options?.ConversationId is not null)
        {
            return Skip("the call continues a server-side conversation");
        }

        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        if (list.Count == 0 || list[^1].Role != ChatRole.User)
        {
            return Skip("the last message is not the user's");
        }

        var context = new StringBuilder(256);
        for (int i = 0; i < list.Count; i++)
        {
            var message = list[i];
            foreach (var content in message.Contents)
            {
                if (content is not TextContent)
                {
                    return Skip("the request has non-text content");
                }
            }

            if (i < list.Count - 1)
            {
                context.Append(message.Role.Value).Append('\u001f').Append(message.Text).Append('\u001e');
            }
        }

        var prompt = Normalize(list[^1].Text);
        if (prompt.Length == 0)
        {
            return Skip("the prompt is empty");
        }

        var hints = RoutingHints.Combine(RoutingScope.Current, options.GetRoutingHints());
        context.Append("tenant=").Append(hints.Tenant).Append('\u001e');
        if (partitionByUser)
        {
            context.Append("user=").Append(hints.User).Append('\u001e');
        }

        context.Append("route=").Append(hints.Route).Append("|policy=").Append(hints.Policy)
            .Append("|caps=").Append(hints.RequiredCapabilities).Append("|local=").Append(hints.LocalOnly).Append('\u001e');
        AppendTags(context, "tags+", hints.RequiredTags);
        AppendTags(context, "tags-", hints.ExcludedTags);
        if (options is not null)
        {
            AppendOptions(context, options);
        }

        var partition = Hash(context.ToString());
        return new CacheRequest(partition, prompt, Hash(partition + "\u001d" + prompt), null);
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

    private static void AppendOptions(StringBuilder context, ChatOptions options)
    {
        context.Append("instructions=").Append(options.Instructions).Append('\u001e')
            .Append("model=").Append(options.ModelId)
            .Append("|temperature=").Append(options.Temperature)
            .Append("|top_p=").Append(options.TopP)
            .Append("|top_k=").Append(options.TopK)
            .Append("|seed=").Append(options.Seed)
            .Append("|frequency=").Append(options.FrequencyPenalty)
            .Append("|presence=").Append(options.PresencePenalty)
            .Append("|max=").Append(options.MaxOutputTokens)
            .Append("|stop=").AppendJoin('\u001f', options.StopSequences ?? [])
            .Append("|tool_mode=").Append(options.ToolMode?.ToString())
            .Append("|parallel_tools=").Append(options.AllowMultipleToolCalls).Append('\u001e');
        switch (options.ResponseFormat)
        {
            case ChatResponseFormatJson json:
                context.Append("format=json|").Append(json.SchemaName).Append('|').Append(json.Schema?.GetRawText()).Append('\u001e');
                break;
            case ChatResponseFormatText:
                context.Append("format=text\u001e");
                break;
        }

        foreach (var tool in options.Tools ?? [])
        {
            context.Append("tool=").Append(tool.Name).Append('|').Append(tool.Description);
            if (tool is AIFunctionDeclaration function)
            {
                context.Append('|').Append(function.JsonSchema.GetRawText());
            }

            context.Append('\u001e');
        }

        if (options.AdditionalProperties is { Count: > 0 } properties)
        {
            foreach (var (key, value) in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (key is not (ChatOptionsCacheExtensions.CacheControlKey or ChatOptionsRoutingExtensions.HintsKey))
                {
                    context.Append("prop=").Append(key).Append('=').Append(value).Append('\u001e');
                }
            }
        }
    }

    private static void AppendTags(StringBuilder context, string label, IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null)
        {
            return;
        }

        foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.OrdinalIgnoreCase))
        {
            context.Append(label).Append(key).Append('=').Append(value).Append('\u001e');
        }
    }

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));

    private static CacheRequest Skip(string reason) => new(string.Empty, string.Empty, string.Empty, reason);
}
