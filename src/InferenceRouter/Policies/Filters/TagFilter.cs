namespace InferenceRouter;

/// <summary>Keeps routes that have every required tag and none of the excluded ones (<see cref="RoutingHints.RequiredTags"/>, <see cref="RoutingHints.ExcludedTags"/>).</summary>
internal sealed class TagFilter : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "tags";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var required = selection.Hints.RequiredTags;
        var excluded = selection.Hints.ExcludedTags;
        if (required is null or { Count: 0 } && excluded is null or { Count: 0 })
        {
            return;
        }

        for (int i = 0; i < selection.Count; i++)
        {
            if (selection.IsExcluded(i))
            {
                continue;
            }

            var descriptor = selection.Routes[i].Descriptor;
            if (required is not null)
            {
                foreach (var (key, value) in required)
                {
                    if (!descriptor.HasTag(key, value))
                    {
                        selection.Exclude(i, this, !selection.IsExplaining ? "lacks a required tag" : string.IsNullOrEmpty(value) ? $"no tag '{key}'" : $"no tag {key}={value}");
                        break;
                    }
                }
            }

            if (excluded is not null && !selection.IsExcluded(i))
            {
                foreach (var (key, value) in excluded)
                {
                    if (descriptor.HasTag(key, value))
                    {
                        selection.Exclude(i, this, !selection.IsExplaining ? "has an excluded tag" : string.IsNullOrEmpty(value) ? $"has excluded tag '{key}'" : $"has excluded tag {key}={value}");
                        break;
                    }
                }
            }
        }
    }
}
