namespace InferenceRouter.Benchmarks;

/// <summary>Finds a model under the read-only <c>shared/models</c> folder beside the repository.</summary>
internal static class SharedModel
{
    public static string Path(string name)
    {
        if (Environment.GetEnvironmentVariable("INFERENCEROUTER_SHARED") is { Length: > 0 } configured)
        {
            return System.IO.Path.Combine(configured, "models", name);
        }

        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            var candidate = System.IO.Path.Combine(directory.FullName, "shared", "models", name);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"Model '{name}' not found: run from inside the repository next to ../shared, or set INFERENCEROUTER_SHARED.");
    }
}
