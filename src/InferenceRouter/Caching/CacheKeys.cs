namespace InferenceRouter;

/// <summary>What a cache key says about its entry that every store must honour.</summary>
/// <remarks>
/// The key of a call kept on the device (<see cref="ChatOptionsRoutingExtensions.KeepOnDevice"/>) starts with
/// <see cref="OnDevicePrefix"/>. A store shared with other instances (<see cref="ISharedCacheStore"/>) keeps every operation on such a key
/// on this instance — no read, write, removal or announcement reaches the shared service — because the key is a fingerprint of the
/// private prompt (<see cref="EgressGate"/>).
/// </remarks>
public static class CacheKeys
{
    /// <summary>The prefix of the keys of calls kept on the device.</summary>
    public const string OnDevicePrefix = "device:";

    /// <summary>Returns whether <paramref name="key"/> belongs to a call kept on the device.</summary>
    /// <param name="key">A cache key.</param>
    /// <returns><see langword="true"/> when it must stay on this device.</returns>
    public static bool IsKeptOnDevice(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.StartsWith(OnDevicePrefix, StringComparison.Ordinal);
    }
}
