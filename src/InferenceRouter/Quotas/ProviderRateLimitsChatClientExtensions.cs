using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Exposes a route client's <see cref="ProviderRateLimits"/>, so the router finds it (<c>GetService(typeof(ProviderRateLimits))</c>).</summary>
public static class ProviderRateLimitsChatClientExtensions
{
    /// <summary>
    /// Returns <paramref name="client"/> answering <c>GetService(typeof(ProviderRateLimits))</c> with <paramref name="limits"/>; calls pass
    /// through unchanged. The headers reach <paramref name="limits"/> through the provider's pipeline (<see cref="ProviderRateLimits.CreateHandler"/>).
    /// </summary>
    /// <param name="client">The route client.</param>
    /// <param name="limits">The record its pipeline publishes to.</param>
    /// <returns>The client.</returns>
    public static IChatClient WithProviderRateLimits(this IChatClient client, ProviderRateLimits limits)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(limits);
        return ReferenceEquals(client.GetService<ProviderRateLimits>(), limits) ? client : new RateLimitsChatClient(client, limits);
    }

    private sealed class RateLimitsChatClient(IChatClient inner, ProviderRateLimits limits) : DelegatingChatClient(inner)
    {
        public override object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceKey is null && serviceType == typeof(ProviderRateLimits) ? limits : base.GetService(serviceType, serviceKey);
    }
}
