using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The local model's log messages. None carries prompt or output text.</summary>
internal static partial class LocalOnnxLog
{
    [LoggerMessage(201, LogLevel.Information, "Loading local model {Model} from {Path} on {Provider}.")]
    public static partial void Loading(ILogger logger, string model, string path, LocalExecutionProvider provider);

    [LoggerMessage(202, LogLevel.Information, "Local model {Model} loaded in {Milliseconds} ms (context {Context} tokens).")]
    public static partial void Loaded(ILogger logger, string model, long milliseconds, int? context);

    [LoggerMessage(203, LogLevel.Error, "Local model {Model} failed to load: {Reason}")]
    public static partial void LoadFailed(ILogger logger, string model, string reason, Exception exception);

    [LoggerMessage(204, LogLevel.Debug, "Local model {Model} generating: {InputTokens} prompt tokens, up to {MaxOutputTokens} output tokens.")]
    public static partial void Generating(ILogger logger, string model, int inputTokens, int maxOutputTokens);

    [LoggerMessage(205, LogLevel.Warning, "Local model {Model} is being disposed while {Generations} generation(s) still run (a stream not disposed?); the model is left for the process to release.")]
    public static partial void GenerationsStillRunning(ILogger logger, string model, int generations);
}
