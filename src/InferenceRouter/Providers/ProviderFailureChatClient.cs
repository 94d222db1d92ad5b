using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Passes calls through unchanged and answers <c>GetService(typeof(IProviderFailureClassifier))</c> with its SDK's failure rules.</summary>
/// <remarks>Adds nothing per call: the router reads the classifier once, when it takes the route. Thread-safe.</remarks>
internal sealed class ProviderFailureChatClient(IChatClient innerClient, IProviderFailureClassifier classifier) : DelegatingChatClient(innerClient)
{
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(IProviderFailureClassifier) ? classifier : base.GetService(serviceType, serviceKey);
    }
}
