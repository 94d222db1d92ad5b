namespace InferenceRouter;

/// <summary>Excludes routes that lack a capability the request needs (tools, images, JSON schema, streaming, or hinted ones).</summary>
internal sealed class CapabilityFilter : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "capabilities";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var required = selection.RequiredCapabilities;
        if (required == RouteCapabilities.None)
        {
            return;
        }

        for (int i = 0; i < selection.Count; i++)
        {
            var missing = required & ~selection.Routes[i].Descriptor.Capabilities;
            if (missing != RouteCapabilities.None && !selection.IsExcluded(i))
            {
                selection.Exclude(i, this, selection.IsExplaining ? "lacks " + missing.ToString() : "lacks a required capability");
            }
        }
    }
}
