namespace InferenceRouter;

/// <summary>
/// The credentials this process was configured with (route API keys), so that <see cref="ErrorText"/> can redact them by value wherever a
/// server echoes one back: in an error message, quoted or not, whatever its shape. Keys are added when the router builds a route from
/// configuration; they are held in memory only, never written anywhere.
/// </summary>
/// <remarks>Process-wide on purpose: error text is scrubbed where no router is at hand (an exception's message). Thread-safe; copy on write.</remarks>
internal static class KnownSecrets
{
    /// <summary>Shorter values are not redacted by value: they are not real keys, and every occurrence of them in a message would go.</summary>
    public const int MinLength = 8;

    private static string[] s_values = [];

    /// <summary>Gets the values to redact, longest first (so a key that contains another is redacted whole).</summary>
    public static string[] Values => Volatile.Read(ref s_values);

    /// <summary>Adds a value to redact; null, short or known values change nothing.</summary>
    /// <param name="secret">The credential, e.g. a route's API key.</param>
    public static void Add(string? secret)
    {
        if (secret is null || secret.Trim().Length < MinLength)
        {
            return;
        }

        secret = secret.Trim();
        while (true)
        {
            var current = Volatile.Read(ref s_values);
            if (Array.IndexOf(current, secret) >= 0)
            {
                return;
            }

            string[] next = [.. current.Append(secret).OrderByDescending(s => s.Length)];
            if (Interlocked.CompareExchange(ref s_values, next, current) == current)
            {
                return;
            }
        }
    }
}
