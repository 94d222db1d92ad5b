using System.Globalization;
using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>
/// Shares route health between app instances over a Redis pub/sub channel: a Retry-After, an opened circuit, a drain or a restore that
/// one router learns (<see cref="RouterChatClient.HealthSignaled"/>) is applied by every other router with the same key prefix
/// (<see cref="RouterChatClient.ApplyHealthSignal"/>) as soon as the message arrives.
/// </summary>
/// <remarks>
/// Best effort and local-first: each router keeps its own health; a signal that cannot be sent (Redis down) is simply not shared, and
/// a remote Retry-After or open circuit is capped by the receiving router's <see cref="RouterOptions.MaxRetryAfter"/>. Instances need
/// clocks that agree (the "until" travels as a time). Dispose to stop sharing.
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed class RedisRouteHealthSync : IDisposable
{
    private readonly RouterChatClient _router;
    private readonly ISubscriber _subscriber;
    private readonly RedisChannel _channel;
    private readonly RedisChannelListener _listener;
    private readonly string _instance = Guid.NewGuid().ToString("N");

    /// <summary>Starts sharing <paramref name="router"/>'s health signals.</summary>
    /// <param name="redis">The connection (not disposed here).</param>
    /// <param name="router">The router.</param>
    /// <param name="keyPrefix">Instances with the same prefix share health. Default: <c>inference-router</c>.</param>
    public RedisRouteHealthSync(IConnectionMultiplexer redis, RouterChatClient router, string keyPrefix = "inference-router")
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(router);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyPrefix);
        _router = router;
        _subscriber = redis.GetSubscriber();
        _channel = RedisChannel.Literal("{" + keyPrefix + "}:health-events");
        _listener = new RedisChannelListener(_subscriber, _channel, message =>
        {
            OnMessage(message);
            return Task.CompletedTask;
        });
        _router.HealthSignaled += Publish;
    }

    /// <summary>Gets a task that completes once signals from other instances are followed (it subscribes in the background).</summary>
    internal Task Subscribed => _listener.Subscribed;

    /// <summary>Stops sharing.</summary>
    public void Dispose()
    {
        _router.HealthSignaled -= Publish;
        _listener.Dispose();
    }

    private void Publish(RouteHealthSignal signal)
    {
        long until = signal.Until?.UtcTicks ?? 0;
        // Fire and forget: a call or an operator's drain never waits on Redis.
        _ = _subscriber.PublishAsync(_channel, $"{_instance}|{(int)signal.Kind}|{until.ToString(CultureInfo.InvariantCulture)}|{signal.Route}", CommandFlags.FireAndForget);
    }

    private void OnMessage(ChannelMessage message)
    {
        var parts = ((string)message.Message!).Split('|', 4);
        if (parts.Length != 4 || parts[0] == _instance || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int kind) ||
            !Enum.IsDefined((RouteHealthSignalKind)kind) || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long until) || until < 0 || until > DateTimeOffset.MaxValue.UtcTicks)
        {
            return;
        }

        _router.ApplyHealthSignal(new RouteHealthSignal(parts[3], (RouteHealthSignalKind)kind, until == 0 ? null : new DateTimeOffset(until, TimeSpan.Zero)));
    }
}
