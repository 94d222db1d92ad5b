using System.Text.Json;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Counts everything a provider bills as input for a chat request: message text and reasoning, function calls and their results,
/// images and other data, the instructions, tool definitions and the response schema, plus the chat format's framing.
/// </summary>
/// <remarks>
/// With an exact counter the result is the text's exact count plus generous framing allowances; with <see cref="Utf8UpperBoundTokenCounter"/>
/// it is an upper bound for any tokenizer. Images count <see cref="TokensPerImage"/> each: the most a provider bills for one image
/// (the size is not known here). Other media (documents, audio, video, hosted files) count what is sent for them here, their inline
/// bytes or their reference (URL, file id), which is not what a provider bills (pages, seconds): budgets reserve a stated bound per item
/// of each kind instead (<see cref="MediaTokenBounds"/>). Thread-safe.
/// </remarks>
public static class PromptTokens
{
    /// <summary>Framing tokens per message (separators), as in OpenAI's chat format; the role's and author name's own tokens are counted besides.</summary>
    public const int TokensPerMessage = 3;

    /// <summary>Framing tokens an author name adds beyond its own text, as in OpenAI's chat format (<c>tokens_per_name</c>).</summary>
    public const int TokensPerName = 1;

    /// <summary>Tokens that prime the assistant's reply.</summary>
    public const int ReplyPrimingTokens = 3;

    /// <summary>Tokens counted for each image input: the most one image costs on the providers we know (OpenAI's patch-based models bill up to about 2,490).</summary>
    public const int TokensPerImage = 2_500;

    /// <summary>Framing allowed per tool definition, function call or function result, beyond its own text.</summary>
    public const int TokensPerToolItem = 16;

    /// <summary>Counts the input tokens of a request.</summary>
    /// <param name="counter">The model's counter.</param>
    /// <param name="messages">The messages.</param>
    /// <param name="options">The options (instructions, tools and response format are billed as input); may be null.</param>
    /// <returns>The input tokens.</returns>
    public static long Count(ITokenCounter counter, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var media = default(PromptMedia);
        return CountWithMedia(counter, messages, options, ref media);
    }

    /// <summary>Counts the input tokens of a request, and notes its media in <paramref name="media"/> (a budget reserves its own bound for them).</summary>
    internal static long CountWithMedia(ITokenCounter counter, IEnumerable<ChatMessage> messages, ChatOptions? options, ref PromptMedia media)
    {
        ArgumentNullException.ThrowIfNull(counter);
        ArgumentNullException.ThrowIfNull(messages);
        long total = ReplyPrimingTokens;
        if (messages is IList<ChatMessage> list)
        {
            // Indexing avoids boxing an enumerator on every call.
            for (int i = 0; i < list.Count; i++)
            {
                total += CountMessage(counter, list[i], ref media);
            }
        }
        else
        {
            foreach (var message in messages)
            {
                total += CountMessage(counter, message, ref media);
            }
        }

        if (options is not null)
        {
            total += CountOptions(counter, options);
        }

        return total;
    }

    private static long CountMessage(ITokenCounter counter, ChatMessage message, ref PromptMedia media)
    {
        // OpenAI bills each message's role and name as text besides its framing ("How to count tokens with tiktoken"): a prompt of many
        // short messages is billed several tokens a message more than its contents.
        long total = TokensPerMessage + counter.CountTokens(message.Role.Value);
        if (message.AuthorName is { Length: > 0 } name)
        {
            total += TokensPerName + counter.CountTokens(name);
        }

        var contents = message.Contents;
        for (int i = 0; i < contents.Count; i++)
        {
            total += contents[i] switch
            {
                TextContent text => counter.CountTokens(text.Text),
                TextReasoningContent reasoning => counter.CountTokens(reasoning.Text),
                FunctionCallContent call => TokensPerToolItem + counter.CountTokens(call.Name) + counter.CountTokens(call.CallId) +
                    (call.Arguments is { Count: > 0 } arguments ? CountValue(counter, arguments) : 0),
                FunctionResultContent result => TokensPerToolItem + counter.CountTokens(result.CallId) + CountValue(counter, result.Result),
                DataContent data when PromptMedia.IsText(data.MediaType) => data.Data.Length, // text: never more tokens than bytes
                DataContent data => media.Add(data.MediaType, data.HasTopLevelMediaType("image") ? TokensPerImage : data.Data.Length),
                UriContent uri => media.Add(uri.MediaType, uri.HasTopLevelMediaType("image") ? TokensPerImage : CountValue(counter, uri)),
                HostedFileContent file => media.Add(file.MediaType, CountValue(counter, file)),
                UsageContent => 0,
                var other => CountValue(counter, other),
            };
        }

        return total;
    }

    private static long CountOptions(ITokenCounter counter, ChatOptions options)
    {
        long total = 0;
        if (options.Instructions is { Length: > 0 } instructions)
        {
            total += TokensPerMessage + counter.CountTokens(ChatRole.System.Value) + counter.CountTokens(instructions);
        }

        if (options.Tools is { Count: > 0 } tools)
        {
            foreach (var tool in tools)
            {
                total += TokensPerToolItem + counter.CountTokens(tool.Name) + counter.CountTokens(tool.Description);
                if (tool is AIFunctionDeclaration function)
                {
                    total += counter.CountTokens(function.JsonSchema.GetRawText());
                }
            }
        }

        if (options.ResponseFormat is ChatResponseFormatJson { Schema: { } schema } json)
        {
            total += TokensPerToolItem + counter.CountTokens(json.SchemaName) + counter.CountTokens(json.SchemaDescription) + counter.CountTokens(schema.GetRawText());
        }

        return total;
    }

    /// <summary>Counts a value as the provider receives it: strings as they are, anything else as JSON.</summary>
    private static int CountValue(ITokenCounter counter, object? value)
    {
        switch (value)
        {
            case null:
                return 0;
            case string text:
                return counter.CountTokens(text);
            case TextContent text:
                return counter.CountTokens(text.Text);
            default:
                try
                {
                    return counter.CountTokens(JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())));
                }
                catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException or JsonException)
                {
                    return counter.CountTokens(value.ToString());
                }
        }
    }
}
