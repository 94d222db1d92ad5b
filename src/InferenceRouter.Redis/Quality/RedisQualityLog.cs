using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The shared quality state's log messages.</summary>
internal static partial class RedisQualityLog
{
    [LoggerMessage(821, LogLevel.Debug, "Reading shared quality outcomes from Redis failed ({Reason}); retrying. Recorded outcomes count locally meanwhile.")]
    public static partial void ReadFailed(ILogger logger, string reason);
}
