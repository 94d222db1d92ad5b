namespace InferenceRouter.Tests;

/// <summary>A callback-driven <see cref="IChatClient"/> for unit tests.</summary>
public sealed class TestChatClient : IChatClient
{
    public Func<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken, Task<ChatResponse>>? GetResponseAsyncCallback { get; set; }

    public Func<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>>? GetStreamingResponseAsyncCallback { get; set; }

    public int Calls;

    public List<ChatOptions?> ReceivedOptions { get; } = [];

    public int DisposeCount { get; private set; }

    public bool Disposed => DisposeCount > 0;

    public static TestChatClient Answering(string text) => new()
    {
        // Complete answers, as a provider sends them: with a finish reason (the cache stores nothing else).
        GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { FinishReason = ChatFinishReason.Stop }),
        GetStreamingResponseAsyncCallback = (_, _, _) => new[] { new ChatResponseUpdate(ChatRole.Assistant, text) { FinishReason = ChatFinishReason.Stop } }.ToAsyncEnumerable(),
    };

    public static TestChatClient Failing(Exception error) => new()
    {
        GetResponseAsyncCallback = (_, _, _) => Task.FromException<ChatResponse>(error),
    };

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Calls);
        lock (ReceivedOptions)
        {
            ReceivedOptions.Add(options);
        }

        return GetResponseAsyncCallback!(messages, options, cancellationToken);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Calls);
        return GetStreamingResponseAsyncCallback!(messages, options, cancellationToken);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() => DisposeCount++;
}
