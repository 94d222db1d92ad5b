using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Answers "which route would this call get now?" without calling any provider, with the same selection the call runs — the layers
/// that steer routing (quality prediction) included. Found with <c>GetService(typeof(IRoutePreview))</c> on a pipeline: the router
/// answers, and a layer that adds to the call's context (<see cref="QualityChatClient"/>) answers for it and the router below.
/// </summary>
/// <remarks>The semantic cache serves a stored answer only when the route that gave it is still the call's first choice. Thread-safe.</remarks>
public interface IRoutePreview
{
    /// <summary>Previews a call.</summary>
    /// <param name="messages">The call's messages.</param>
    /// <param name="options">The call's options (with its captured <see cref="CallContext"/>, if any).</param>
    /// <param name="streaming">Whether the call streams.</param>
    /// <param name="cancellationToken">Cancels what the preview computes (an embedding for the quality prediction).</param>
    /// <returns>The first route and the context the call will carry.</returns>
    ValueTask<RoutePreview> PreviewAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, bool streaming, CancellationToken cancellationToken = default);
}
