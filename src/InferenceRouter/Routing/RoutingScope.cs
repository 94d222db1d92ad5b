namespace InferenceRouter;

/// <summary>Ambient routing hints for a block of code (and everything it awaits), carried by <see cref="AsyncLocal{T}"/>.</summary>
/// <example>
/// <code>
/// using (RoutingScope.Begin(new RoutingHints { Tenant = "contoso", RequiredTags = new Dictionary&lt;string, string&gt; { ["region"] = "eu" } }))
/// {
///     await chatClient.GetResponseAsync("…"); // only EU routes, charged to contoso
/// }
/// </code>
/// </example>
public static class RoutingScope
{
    private static readonly AsyncLocal<RoutingHints?> s_current = new();

    /// <summary>Gets the hints of the innermost active scope, or <see langword="null"/>.</summary>
    public static RoutingHints? Current => s_current.Value;

    /// <summary>Starts a scope whose hints apply to every call inside it; nested scopes combine with outer ones.</summary>
    /// <param name="hints">The hints.</param>
    /// <returns>A handle that ends the scope when disposed.</returns>
    public static IDisposable Begin(RoutingHints hints)
    {
        ArgumentNullException.ThrowIfNull(hints);
        var previous = s_current.Value;
        s_current.Value = RoutingHints.Combine(previous, hints);
        return new Scope(previous);
    }

    private sealed class Scope(RoutingHints? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                s_current.Value = previous;
            }
        }
    }
}
