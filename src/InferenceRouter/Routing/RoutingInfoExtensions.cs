using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Reads the <see cref="RoutingInfo"/> the router attaches to responses.</summary>
public static class RoutingInfoExtensions
{
    /// <summary>The <c>AdditionalProperties</c> key the routing info is stored under.</summary>
    public const string RoutingInfoKey = "InferenceRouter.RoutingInfo";

    /// <summary>Gets how <paramref name="response"/> was routed, or <see langword="null"/> when it did not come through a router.</summary>
    /// <param name="response">The response (also one assembled from a stream with <c>ToChatResponse</c>).</param>
    /// <returns>The routing info, or <see langword="null"/>.</returns>
    public static RoutingInfo? GetRoutingInfo(this ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.AdditionalProperties?.TryGetValue(RoutingInfoKey, out var value) == true ? value as RoutingInfo : null;
    }

    /// <summary>Gets the routing info carried by a streaming update (the router's last update carries it), or <see langword="null"/>.</summary>
    /// <param name="update">The update.</param>
    /// <returns>The routing info, or <see langword="null"/>.</returns>
    public static RoutingInfo? GetRoutingInfo(this ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return update.AdditionalProperties?.TryGetValue(RoutingInfoKey, out var value) == true ? value as RoutingInfo : null;
    }

    /// <summary>
    /// Gets how a stream that failed after its first update was routed, or <see langword="null"/>: the exception the caller gets from such
    /// a stream carries it (its last attempt says how the stream ended: failed, timed out, cancelled), since no last update will.
    /// </summary>
    /// <param name="exception">The exception a stream threw.</param>
    /// <returns>The routing info, or <see langword="null"/>.</returns>
    public static RoutingInfo? GetRoutingInfo(this Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Data[RoutingInfoKey] as RoutingInfo;
    }
}
