namespace InferenceRouter;

/// <summary>Runs several policies in order: typically filters, then one ranker.</summary>
/// <remarks>Thread-safe when its parts are.</remarks>
public sealed class CompositeRoutingPolicy : IRoutingPolicy
{
    private readonly IRoutingPolicy[] _policies;

    /// <summary>Creates a policy named <paramref name="name"/> that applies <paramref name="policies"/> in order.</summary>
    /// <param name="name">The composite's name.</param>
    /// <param name="policies">The parts, filters first.</param>
    public CompositeRoutingPolicy(string name, params IEnumerable<IRoutingPolicy> policies)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(policies);
        Name = name;
        _policies = [.. policies];
        for (int i = 0; i < _policies.Length; i++)
        {
            if (_policies[i] is null)
            {
                throw new ArgumentException($"Policy {i} of composite '{name}' is null.", nameof(policies));
            }
        }
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Gets the parts, in the order they run.</summary>
    public IReadOnlyList<IRoutingPolicy> Policies => _policies;

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        foreach (var policy in _policies)
        {
            policy.Apply(selection);
        }
    }
}
