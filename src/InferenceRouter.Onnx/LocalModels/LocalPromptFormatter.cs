using System.Text;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>A plain prompt format for models without a chat template: one <c>Role: text</c> paragraph per message, then <c>Assistant:</c>.</summary>
public static class LocalPromptFormatter
{
    /// <summary>Formats <paramref name="messages"/> (and <see cref="ChatOptions.Instructions"/> as a system message first).</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The call's options.</param>
    /// <returns>The prompt.</returns>
    public static string Format(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var prompt = new StringBuilder();
        if (options?.Instructions is { Length: > 0 } instructions)
        {
            prompt.Append("System: ").Append(instructions).Append("\n\n");
        }

        foreach (var message in messages)
        {
            var text = message.Text;
            if (text.Length == 0)
            {
                continue;
            }

            var role = message.Role.Value;
            prompt.Append(char.ToUpperInvariant(role[0])).Append(role, 1, role.Length - 1).Append(": ").Append(text).Append("\n\n");
        }

        return prompt.Append("Assistant:").ToString();
    }
}
