using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>
/// Subscribes to a channel in the background, retrying until Redis answers, so building a shared component never fails or blocks
/// because Redis is slow or down; once subscribed, StackExchange.Redis re-subscribes by itself after a reconnect. Messages are handled
/// one at a time, in order.
/// </summary>
internal sealed class RedisChannelListener : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _stop = new();
    private ChannelMessageQueue? _queue;

    public RedisChannelListener(ISubscriber subscriber, RedisChannel channel, Func<ChannelMessage, Task> handler)
    {
        Subscribed = SubscribeAsync(subscriber, channel, handler);
    }

    /// <summary>Gets a task that completes once the subscription is in place (or the listener was disposed first).</summary>
    public Task Subscribed { get; }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _queue?.Unsubscribe();
        }
        catch (Exception e) when (e is ObjectDisposedException or RedisException or TimeoutException)
        {
            // The connection went first (a container disposes in its own order): the subscription went with it.
        }
    }

    private async Task SubscribeAsync(ISubscriber subscriber, RedisChannel channel, Func<ChannelMessage, Task> handler)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var queue = await subscriber.SubscribeAsync(channel).ConfigureAwait(false);
                queue.OnMessage(handler);
                _queue = queue;
                if (_stop.IsCancellationRequested)
                {
                    queue.Unsubscribe();
                }

                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                try
                {
                    await Task.Delay(RetryDelay, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
