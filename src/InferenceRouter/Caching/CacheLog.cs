using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The cache's log messages. None carries prompt or answer text.</summary>
internal static partial class CacheLog
{
    // The embedding service's exception is never logged whole: a remote one can echo the prompt it was sent (ErrorText scrubs it).
    [LoggerMessage(301, LogLevel.Warning, "Embedding the prompt failed ({ErrorType}: {Error}); the call goes through uncached.")]
    private static partial void LogEmbeddingFailed(ILogger logger, string errorType, string error);

    public static void EmbeddingFailed(ILogger logger, string errorType, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            LogEmbeddingFailed(logger, errorType, ErrorText.Chain(exception));
        }
    }

    [LoggerMessage(302, LogLevel.Debug, "Cache {Tier} hit (similarity {Similarity}).")]
    public static partial void Hit(ILogger logger, CacheTier tier, double? similarity);

    [LoggerMessage(304, LogLevel.Warning, "The cache {Operation} failed ({ErrorType}); the call goes on without it.")]
    public static partial void CacheFailed(ILogger logger, string operation, string errorType, Exception exception);

    [LoggerMessage(303, LogLevel.Debug, "Cache bypassed: {Reason}.")]
    public static partial void Bypassed(ILogger logger, string reason);

    [LoggerMessage(305, LogLevel.Debug, "Answer not stored: route {Route} answered as a fallback (StoreFallbackAnswers is off).")]
    public static partial void FallbackNotStored(ILogger logger, string route);

    [LoggerMessage(307, LogLevel.Warning, "Answer not stored: route {Route} answered a call kept on the device by a layer below the cache; set KeepOnDevice on the call's options or scope (or in middleware above the cache) so the cache treats it as private from the start.")]
    public static partial void PrivateBelowNotStored(ILogger logger, string route);

    [LoggerMessage(306, LogLevel.Warning, "Loading the shared cache's entries into the index failed ({ErrorType}); they are misses here until stored again.")]
    public static partial void SharedLoadFailed(ILogger logger, string errorType, Exception exception);

    [LoggerMessage(308, LogLevel.Debug, "Semantic tier skipped: the prompt's embedding lost information ({Lost}); exact tier only.")]
    public static partial void EmbeddingLostInformation(ILogger logger, string lost);
}
