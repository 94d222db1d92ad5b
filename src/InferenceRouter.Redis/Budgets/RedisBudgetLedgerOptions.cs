namespace InferenceRouter;

/// <summary>Options for <see cref="RedisBudgetLedger"/>.</summary>
public sealed class RedisBudgetLedgerOptions
{
    /// <summary>
    /// Gets or sets the prefix of every key, used as the Redis Cluster hash tag (<c>{prefix}</c>) so each script stays on one slot.
    /// Instances that share a budget use the same prefix; apps that must not, different ones. Required: there is no default two
    /// unrelated apps could both fall into. <c>UseRedis()</c> sets it, when unset, to the app's name (<c>IHostEnvironment.ApplicationName</c>,
    /// else the entry assembly's name) and logs it; a ledger made in code needs it set.
    /// </summary>
    /// <remarks>
    /// The limits each app enforces are stored under the prefix (<c>{prefix}:limits</c>): an instance whose limit of the same name has
    /// another amount or window is refused (at start under <c>UseRedis()</c>, else at its first reservation in that limit), naming the
    /// prefix, the limit and both values.
    /// </remarks>
    public string? KeyPrefix { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether this instance stores its limits over different ones stored under <see cref="KeyPrefix"/>,
    /// instead of refusing to start. Set it for the deploy that changes a limit on purpose (instances already running keep the limit
    /// they started with until they are replaced); leave it off otherwise, so another app on the same prefix is refused. Default: false.
    /// </summary>
    public bool OverwriteStoredLimits { get; set; }

    /// <summary>Gets or sets the longest a ledger operation may wait for Redis before it fails (a slow Redis never adds seconds to a call). Default: 1 s.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long a finished or expired reservation, and a closed calendar window's account, are kept after they end, so a
    /// settlement that arrives late still replaces the expiry charge and a report still sees the window. Default: 7 days.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets what each account may spend on this instance while Redis is unreachable (fail open), or null to refuse budgeted
    /// calls then (fail closed, the default). Spend made while open is kept locally and charged to Redis when it answers again.
    /// </summary>
    public decimal? FailOpenCap { get; set; }

    /// <summary>
    /// Gets or sets a file where, while failing open, every reservation, settlement and release is written before the call goes on,
    /// so a process killed while Redis is away loses none of it: the next ledger that opens the file (this instance restarted) sends
    /// it to Redis. Each instance needs its own file (it is locked while in use); keep it on a disk that outlives the process. Null
    /// (the default) keeps them in memory only. Written to the operating system at each step, so it survives a killed process;
    /// a machine crash may lose what the OS had not yet written to disk.
    /// </summary>
    public string? FailOpenJournalPath { get; set; }

    /// <summary>Lists what is wrong with these options, each with how to fix it.</summary>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors()
    {
        if (RedisKeyPrefix.Problem(KeyPrefix) is { } problem)
        {
            yield return problem;
        }

        if (OperationTimeout <= TimeSpan.Zero)
        {
            yield return $"OperationTimeout is {OperationTimeout}; give a positive time (e.g. 00:00:01).";
        }

        if (FailOpenCap is < 0 || FailOpenCap > BudgetUnits.MaxAmount)
        {
            yield return $"FailOpenCap is {FailOpenCap}; give an amount from zero to {BudgetUnits.MaxAmount:0}, or leave it unset to fail closed.";
        }

        if (FailOpenJournalPath is not null && FailOpenCap is null)
        {
            yield return $"FailOpenJournalPath is '{FailOpenJournalPath}' but FailOpenCap is not set; the journal records spend made while failing open, so set FailOpenCap or remove the path.";
        }

        if (FailOpenJournalPath is { } path && (string.IsNullOrWhiteSpace(path) || path.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || path.EndsWith('/') || path.EndsWith('\\')))
        {
            yield return $"FailOpenJournalPath '{path}' is not a file path; give a file such as /var/lib/my-app/fail-open.journal.";
        }

        if (Retention <= TimeSpan.Zero)
        {
            yield return $"Retention is {Retention}; give a positive time (e.g. 7.00:00:00).";
        }
    }
}
