using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The Redis ledger's log messages.</summary>
internal static partial class RedisBudgetLog
{
    [LoggerMessage(801, LogLevel.Warning, "Redis is unreachable: budgeted calls are admitted by the local ledger, at most {Cap} per account on this instance, until it answers (fail open).")]
    public static partial void FailingOpen(ILogger logger, decimal cap);

    [LoggerMessage(802, LogLevel.Information, "Redis answers again: {Count} settlement(s) made while it was away were charged to it.")]
    public static partial void Reconciled(ILogger logger, int count);
}
