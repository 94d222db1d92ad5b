using System.Text;

namespace InferenceRouter;

/// <summary>Thrown when no route could answer a call: every candidate failed, or policies left none.</summary>
/// <remarks>The message lists each attempt (route, error, duration) and each excluded route with its reason.</remarks>
public sealed class AllRoutesFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="attempts">Every attempt, in order.</param>
    /// <param name="exclusions">The routes policies ruled out, with reasons.</param>
    public AllRoutesFailedException(IReadOnlyList<RouteAttempt> attempts, IReadOnlyList<RouteExclusion> exclusions)
        : base(BuildMessage(attempts, exclusions), LastError(attempts))
    {
        Attempts = attempts;
        Exclusions = exclusions;
    }

    /// <summary>Gets every attempt, in order.</summary>
    public IReadOnlyList<RouteAttempt> Attempts { get; }

    /// <summary>Gets the routes policies ruled out before any attempt, with reasons.</summary>
    public IReadOnlyList<RouteExclusion> Exclusions { get; }

    private static Exception? LastError(IReadOnlyList<RouteAttempt> attempts)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        for (int i = attempts.Count - 1; i >= 0; i--)
        {
            if (attempts[i].Error is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static string BuildMessage(IReadOnlyList<RouteAttempt> attempts, IReadOnlyList<RouteExclusion> exclusions)
    {
        ArgumentNullException.ThrowIfNull(exclusions);
        var text = new StringBuilder(attempts.Count == 0
            ? "No route could take the call: every route was excluded."
            : $"All {attempts.Count} route attempt(s) failed.");
        foreach (var attempt in attempts)
        {
            text.Append("\n  attempt: ").Append(attempt);
        }

        foreach (var exclusion in exclusions)
        {
            text.Append("\n  excluded: ").Append(exclusion);
        }

        return text.ToString();
    }
}
