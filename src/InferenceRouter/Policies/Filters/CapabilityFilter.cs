namespace InferenceRouter;

/// <summary>
/// Excludes routes that declare their capabilities and lack one the request needs (tools, images, JSON schema, streaming, or hinted ones).
/// A route that declares none is unknown, not incapable: it stays a candidate and its provider decides.
/// </summary>
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
            if (selection.Routes[i].Descriptor.Capabilities is not { } declared)
            {
                continue;
            }

            var missing = required & ~declared;
            if (missing != RouteCapabilities.None && !selection.IsExcluded(i))
            {
                selection.Exclude(i, this, selection.IsExplaining ? "lacks " + missing.ToString() : "lacks a required capability");
            }
        }
    }
}
