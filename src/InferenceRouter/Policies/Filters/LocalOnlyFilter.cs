namespace InferenceRouter;

/// <summary>Excludes every remote route when the call must stay on the device (<see cref="RoutingHints.LocalOnly"/>, <c>KeepOnDevice()</c>).</summary>
internal sealed class LocalOnlyFilter : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "local-only";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (!selection.Hints.LocalOnly)
        {
            return;
        }

        for (int i = 0; i < selection.Count; i++)
        {
            if (!selection.Routes[i].Descriptor.IsLocal)
            {
                selection.Exclude(i, this, "remote, and the call must stay on the device");
            }
        }
    }
}
