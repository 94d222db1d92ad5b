using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Holds a provider client's raw requests to the call's output limit (<see cref="IRawRequestOutputLimiter"/>).</summary>
public static class RawRequestOutputLimitChatClientExtensions
{
    /// <summary>
    /// Wraps <paramref name="client"/> so that whatever a call's <see cref="ChatOptions.RawRepresentationFactory"/> returns is held to the call's
    /// <see cref="ChatOptions.MaxOutputTokens"/> by <paramref name="limiter"/>, and so that budgets see it does (through <c>GetService</c>).
    /// Provider packages apply it in their <c>AsRouteClient()</c>; routes built from configuration have it already.
    /// </summary>
    /// <param name="client">The provider's client (the SDK's <see cref="IChatClient"/> adapter, or a client over it that passes options on unchanged).</param>
    /// <param name="limiter">The SDK's rule for its raw request type.</param>
    /// <returns>The wrapped client; disposing it disposes <paramref name="client"/>.</returns>
    public static IChatClient WithRawRequestOutputLimit(this IChatClient client, IRawRequestOutputLimiter limiter)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(limiter);
        return new RawRequestOutputLimitChatClient(client, limiter);
    }
}
