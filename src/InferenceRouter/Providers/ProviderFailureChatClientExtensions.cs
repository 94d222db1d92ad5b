using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Gives a provider's <see cref="IChatClient"/> its SDK's failure rules, so the router classifies its failures (status, Retry-After, error events).</summary>
public static class ProviderFailureChatClientExtensions
{
    /// <summary>
    /// Wraps <paramref name="client"/> so it exposes <paramref name="classifier"/> through <c>GetService</c>; calls pass through unchanged.
    /// Provider packages give one-liners over this (<c>AsRouteClient()</c>); routes built from configuration get it already.
    /// </summary>
    /// <param name="client">The provider's client.</param>
    /// <param name="classifier">The SDK's failure rules.</param>
    /// <returns>The wrapped client; disposing it disposes <paramref name="client"/>.</returns>
    public static IChatClient WithFailureClassifier(this IChatClient client, IProviderFailureClassifier classifier)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(classifier);
        return new ProviderFailureChatClient(client, classifier);
    }
}
