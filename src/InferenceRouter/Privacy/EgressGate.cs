using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// The one check every component makes before prompt or answer text (or what is computed from it: an embedding, a shared outcome)
/// leaves the process: for a call kept on the device (<see cref="ChatOptionsRoutingExtensions.KeepOnDevice"/>), nothing goes anywhere
/// that is not on the device.
/// </summary>
/// <remarks>
/// Who asks it: the semantic cache before embedding a prompt, quality routing before embedding a prompt to predict or to record an
/// outcome, the shared cache store before writing an entry to Redis, quality sharing before publishing an outcome. Logs never hold
/// prompt or answer text at all. A destination is on the device when it runs in this process or on the loopback interface
/// (<see cref="IsOnDevice"/>); Redis and other instances never are.
/// </remarks>
public static class EgressGate
{
    /// <summary>Returns whether text of a call may go to a destination.</summary>
    /// <param name="keepOnDevice">Whether the call must stay on the device.</param>
    /// <param name="destinationOnDevice">Whether the destination runs on this device.</param>
    /// <returns><see langword="true"/> unless the call is kept on the device and the destination is not on it.</returns>
    public static bool Allows(bool keepOnDevice, bool destinationOnDevice) => destinationOnDevice || !keepOnDevice;

    /// <summary>Returns whether text of the call with <paramref name="context"/> may go to a destination.</summary>
    /// <param name="context">The call's captured context.</param>
    /// <param name="destinationOnDevice">Whether the destination runs on this device.</param>
    /// <returns><see langword="true"/> unless the call is kept on the device and the destination is not on it.</returns>
    public static bool Allows(CallContext context, bool destinationOnDevice)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Allows(context.KeepOnDevice, destinationOnDevice);
    }

    /// <summary>
    /// Returns whether an embedding generator runs on this device, from its metadata: ONNX Runtime (<c>InferenceRouter.Onnx</c>), or
    /// an endpoint on the loopback interface. An unknown generator counts as remote.
    /// </summary>
    /// <param name="generator">The generator; null counts as remote (nothing to send to).</param>
    /// <returns><see langword="true"/> when it is known to run on this device.</returns>
    public static bool IsOnDevice(IEmbeddingGenerator<string, Embedding<float>>? generator)
    {
        var metadata = generator?.GetService<EmbeddingGeneratorMetadata>();
        return metadata is not null &&
            (string.Equals(metadata.ProviderName, "onnxruntime", StringComparison.OrdinalIgnoreCase) || metadata.ProviderUri is { IsLoopback: true });
    }

    /// <summary>
    /// Whether every call a layer hands <paramref name="inner"/> stays on this device when it asks to: a router is below (it never sends a
    /// call kept on the device to a remote route), or the client says it runs here (ONNX Runtime, or an endpoint on the loopback interface).
    /// </summary>
    internal static bool KeepsCallsOnDevice(IChatClient inner) =>
        inner.GetService(typeof(RouterChatClient)) is not null ||
        inner.GetService(typeof(ChatClientMetadata)) is ChatClientMetadata { } metadata &&
        ((metadata.ProviderName?.StartsWith("onnxruntime", StringComparison.OrdinalIgnoreCase) ?? false) || metadata.ProviderUri is { IsLoopback: true });

    /// <summary>The error for a call kept on the device that a layer would hand a client not known to keep it there.</summary>
    internal static InvalidOperationException NotKeptOnDevice(string layer) => new(
        $"The call is kept on the device (KeepOnDevice), but {layer} has no router below it and the client below is not known to run on this " +
        "device, so nothing would keep it there. Put a RouterChatClient (with a local route) below, or call a local client without KeepOnDevice.");
}
