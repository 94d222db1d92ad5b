namespace InferenceRouter.Tests;

/// <summary>Finds the read-only <c>shared/</c> folder beside the repository (models and data for tests), or says it is missing.</summary>
internal static class SharedFiles
{
    private static readonly Lazy<string?> s_root = new(FindRoot);

    /// <summary>Gets the shared folder, or null when it is missing.</summary>
    public static string? Root => s_root.Value;

    /// <summary>Gets the path of the tiny random-weights GPT-2 model in ONNX Runtime GenAI layout.</summary>
    public static string TinyModel => Path.Combine(s_root.Value ?? Path.Combine("..", "shared"), "models", "tiny-gpt2-genai");

    /// <summary>Returns why a test needing <paramref name="relativePath"/> must be skipped, or null when the file or folder is there.</summary>
    public static string? MissingReason(string relativePath)
    {
        var root = s_root.Value;
        var path = root is null ? null : Path.Combine(root, relativePath);
        return path is not null && (File.Exists(path) || Directory.Exists(path))
            ? null
            : $"needs ../shared/{relativePath} beside the repository (set INFERENCEROUTER_SHARED to its folder); it is not there";
    }

    private static string? FindRoot()
    {
        if (Environment.GetEnvironmentVariable("INFERENCEROUTER_SHARED") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "InferenceRouter.sln")))
            {
                var shared = Path.Combine(directory.Parent?.FullName ?? directory.FullName, "shared");
                return Directory.Exists(shared) ? shared : null;
            }
        }

        return null;
    }
}

/// <summary>A fact that is skipped, with a message naming the path, when a file from <c>../shared</c> is missing.</summary>
internal sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute(string relativePath)
    {
        Skip = SharedFiles.MissingReason(relativePath);
    }
}
