using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The Redis ledger's log messages.</summary>
internal static partial class RedisBudgetLog
{
    [LoggerMessage(801, LogLevel.Warning, "Redis is unreachable: budgeted calls are admitted by the local ledger, at most {Cap} per account on this instance, until it answers (fail open).")]
    public static partial void FailingOpen(ILogger logger, decimal cap);

    [LoggerMessage(802, LogLevel.Information, "Redis answers again: {Count} reservation(s), settlement(s) and release(s) made while it was away were sent to it.")]
    public static partial void Reconciled(ILogger logger, int count);

    [LoggerMessage(803, LogLevel.Warning, "The fail-open journal {Path} holds {Count} record(s) of spend made while Redis was unreachable by a process that ended before sending them; they are sent when Redis answers ({Unreadable} line(s) cut short by a crash skipped: their calls never went on).")]
    public static partial void JournalLoaded(ILogger logger, int count, string path, int unreadable);

    [LoggerMessage(804, LogLevel.Warning, "The outcome of fail-open reservation {Id} could not be journaled; if this process ends before Redis answers, the reservation's expiry charges what it held.")]
    public static partial void OutcomeNotJournaled(ILogger logger, string id, Exception exception);
}
