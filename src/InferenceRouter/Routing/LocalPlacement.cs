namespace InferenceRouter;

/// <summary>Where local routes go in a call's failover order.</summary>
internal enum LocalPlacement
{
    /// <summary>Wherever the ranker puts them.</summary>
    ByScore,

    /// <summary>After every remote route (the default: local models are the fallback).</summary>
    Last,

    /// <summary>Before every remote route (the app is offline, or the call must stay on the device).</summary>
    First,
}
