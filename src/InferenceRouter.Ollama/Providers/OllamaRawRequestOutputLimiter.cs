using System.Text.Json;
using OllamaSharp.Models;
using OllamaSharp.Models.Chat;

namespace InferenceRouter;

/// <summary>
/// Holds a raw <see cref="ChatRequest"/> to the call's output limit: <c>num_predict</c> is lowered to it, and set when it is unset or
/// unbounded (Ollama reads -1 as "until the model stops" and -2 as "fill the context").
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
internal sealed class OllamaRawRequestOutputLimiter : IRawRequestOutputLimiter
{
    public static OllamaRawRequestOutputLimiter Instance { get; } = new();

    public object? Limit(object? rawRequest, int maxOutputTokens)
    {
        if (rawRequest is not ChatRequest request)
        {
            return rawRequest;
        }

        request.Options ??= new RequestOptions();
        if (request.Options.NumPredict is not (> 0 and var asked) || asked > maxOutputTokens)
        {
            request.Options.NumPredict = maxOutputTokens;
        }

        return request;
    }

    /// <inheritdoc/>
    public long CountInputTokenBound(object? rawRequest) =>
        rawRequest is ChatRequest request ? JsonSerializer.SerializeToUtf8Bytes(request, OllamaRequestJsonContext.Default.ChatRequest).Length : 0;
}
