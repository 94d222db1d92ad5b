using System.Text.Json;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Writes messages as the JSON conversation a model's chat template reads: <c>[{"role":"user","content":"…"}]</c>.</summary>
internal static class LocalChatTemplate
{
    public static string ToJson(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            if (options?.Instructions is { Length: > 0 } instructions)
            {
                Write(writer, "system", instructions);
            }

            foreach (var message in messages)
            {
                if (message.Text is { Length: > 0 } text)
                {
                    Write(writer, message.Role.Value, text);
                }
            }

            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void Write(Utf8JsonWriter writer, string role, string content)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteString("content", content);
        writer.WriteEndObject();
    }
}
