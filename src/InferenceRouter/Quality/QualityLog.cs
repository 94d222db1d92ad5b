using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>Source-generated log messages of quality-aware routing.</summary>
internal static partial class QualityLog
{
    [LoggerMessage(EventId = 701, Level = LogLevel.Error, Message = "Quality state '{Path}' did not load; routing on the prior until outcomes are recorded: {Reason}")]
    public static partial void StateNotLoaded(ILogger logger, string path, string reason, Exception exception);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Quality state '{Path}' was not saved: {Reason}")]
    public static partial void StateNotSaved(ILogger logger, string path, string reason, Exception exception);

    // The embedding service's exception is never logged whole: a remote one can echo the prompt it was sent (ErrorText scrubs it).
    [LoggerMessage(EventId = 703, Level = LogLevel.Warning, Message = "Embedding a prompt for quality prediction failed ({ErrorType}: {Error}); predicting from the prior")]
    private static partial void LogEmbeddingFailed(ILogger logger, string errorType, string error);

    public static void EmbeddingFailed(ILogger logger, string errorType, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            LogEmbeddingFailed(logger, errorType, ErrorText.Chain(exception));
        }
    }

    [LoggerMessage(EventId = 704, Level = LogLevel.Warning, Message = "An OutcomeRecorded handler failed ({ErrorType}); the outcome counts here but was not shared")]
    public static partial void OutcomeNotShared(ILogger logger, string errorType, Exception exception);
}
