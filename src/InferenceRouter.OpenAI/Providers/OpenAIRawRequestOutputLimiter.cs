using System.Buffers;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI.Chat;

namespace InferenceRouter;

/// <summary>
/// Holds a raw <see cref="ChatCompletionOptions"/> to the call's output limit: <c>max_completion_tokens</c> (which counts reasoning
/// tokens too) is lowered to it, a patched <c>max_tokens</c> or <c>max_completion_tokens</c> is taken out (the property carries the limit),
/// and a patched <c>n</c> above 1 is refused: several choices bill several times the limit.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
internal sealed class OpenAIRawRequestOutputLimiter : IRawRequestOutputLimiter
{
    public static OpenAIRawRequestOutputLimiter Instance { get; } = new();

    public object? Limit(object? rawRequest, int maxOutputTokens)
    {
        if (rawRequest is not ChatCompletionOptions request)
        {
            return rawRequest; // the adapter ignores anything else and builds its request from ChatOptions
        }

        int limit = request.MaxOutputTokenCount is { } asked && asked <= maxOutputTokens ? asked : maxOutputTokens;
        request.MaxOutputTokenCount = limit;
#pragma warning disable SCME0001 // JsonPatch is the SDK's way to set any field; a patched limit would override the property.
        ref var patch = ref request.Patch;
        if (patch.TryGetValue("$.n"u8, out int choices) && choices > 1)
        {
            throw new InvalidOperationException(
                $"The raw ChatCompletionOptions patch n = {choices}: {choices} choices are billed {choices} times the output limit ({maxOutputTokens} tokens) the call was sent with. Ask for one choice per call.");
        }

        // Only a field the patch holds is touched: removing a path also removes the property serialised there (the limit set above).
        if (patch.Contains("$.max_tokens"u8))
        {
            patch.Remove("$.max_tokens"u8);
        }

        if (patch.Contains("$.max_completion_tokens"u8))
        {
            patch.Set("$.max_completion_tokens"u8, limit);
        }
#pragma warning restore SCME0001
        return request;
    }

    /// <inheritdoc/>
    public long CountInputTokenBound(object? rawRequest)
    {
        if (rawRequest is not IJsonModel<ChatCompletionOptions> request)
        {
            return 0;
        }

        // Written as the SDK writes it (its patch included): tools, a response schema or patched-in messages all count.
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            request.Write(writer, ModelReaderWriterOptions.Json);
        }

        return buffer.WrittenCount;
    }

}
