using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The Redis ledger's log messages.</summary>
internal static partial class RedisBudgetLog
{
    [LoggerMessage(801, LogLevel.Warning, "Redis is unreachable: budgeted calls are admitted by the local ledger, at most {Cap} per account on this instance, until it answers (fail open).")]
    public static partial void FailingOpen(ILogger logger, decimal cap);

    [LoggerMessage(802, LogLevel.Information, "Redis answers again: {Count} reservation(s), settlement(s) and release(s) made while it was away were sent to it.")]
    public static partial void Reconciled(ILogger logger, int count);

    [LoggerMessage(803, LogLevel.Warning, "The fail-open journal {Path} holds {Count} record(s) of spend made while Redis was unreachable by a process that ended before sending them; they are sent when Redis answers ({Rejected} unreadable or invalid line(s) set aside in the .rejected file beside it).")]
    public static partial void JournalLoaded(ILogger logger, int count, string path, int rejected);

    [LoggerMessage(804, LogLevel.Warning, "The outcome of fail-open reservation {Id} could not be journaled; if this process ends before Redis answers, the reservation's expiry charges what it held.")]
    public static partial void OutcomeNotJournaled(ILogger logger, string id, Exception exception);

    [LoggerMessage(805, LogLevel.Error, "The Redis budget ledger under {Prefix} holds a damaged record: {Reason}. The calls that touch it are refused (an expired reservation on it is set aside in {Prefix}:quarantine, not charged); repair or delete the key.")]
    public static partial void DamagedRecord(ILogger logger, string prefix, string reason);

    [LoggerMessage(806, LogLevel.Error, "A fail-open record was set aside in {RejectedPath} and will not be sent to Redis: {Reason}. Record: {Record}")]
    public static partial void RecordRejected(ILogger logger, string rejectedPath, string reason, string record);

    [LoggerMessage(807, LogLevel.Error, "Sending fail-open steps to Redis failed unexpectedly; the timer tries again.")]
    public static partial void SendFailed(ILogger logger, Exception exception);

    [LoggerMessage(808, LogLevel.Information, "The Redis budget ledger uses KeyPrefix '{Prefix}' ({Source}); instances with the same prefix share one budget.")]
    public static partial void UsingPrefix(ILogger logger, string prefix, string source);

    [LoggerMessage(809, LogLevel.Warning, "The limits stored under Redis KeyPrefix '{Prefix}' could not be checked at start (Redis did not answer); they are checked before this instance's first reservation.")]
    public static partial void LimitsNotCheckedAtStart(ILogger logger, string prefix);
}
