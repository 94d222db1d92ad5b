using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace InferenceRouter.Benchmarks;

/// <summary>Answers at once with a prebuilt response, or a prebuilt stream of updates: what is left is the caller's overhead.</summary>
public sealed class NoOpChatClient : IChatClient
{
    private readonly Task<ChatResponse> _response;
    private readonly ChatResponseUpdate[] _updates;

    public NoOpChatClient(int updates = 10)
    {
        _response = Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { FinishReason = ChatFinishReason.Stop, AdditionalProperties = [], Usage = new UsageDetails { InputTokenCount = 14, OutputTokenCount = 1 } });
        _updates = [.. Enumerable.Range(0, updates).Select(i => new ChatResponseUpdate(ChatRole.Assistant, "token " + i) { FinishReason = i == updates - 1 ? ChatFinishReason.Stop : null })];
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) => _response;

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in _updates)
        {
            yield return update;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
