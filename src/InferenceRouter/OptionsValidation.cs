namespace InferenceRouter;

/// <summary>
/// The one validation shape: every options type lists its problems (<c>internal IEnumerable&lt;string&gt; GetValidationErrors(…)</c>,
/// each message naming the key and the fix); constructors throw them all at once here, and DI validators report them at start.
/// </summary>
internal static class OptionsValidation
{
    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem, when there is one.</summary>
    public static void ThrowIfInvalid(IEnumerable<string> errors, string paramName, string? heading = null)
    {
        var list = errors as IReadOnlyCollection<string> ?? [.. errors];
        if (list.Count > 0)
        {
            throw new ArgumentException((heading is null ? string.Empty : heading + " ") + string.Join(" ", list), paramName);
        }
    }
}
