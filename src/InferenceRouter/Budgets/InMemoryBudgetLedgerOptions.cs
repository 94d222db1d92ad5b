namespace InferenceRouter;

/// <summary>Options of <see cref="InMemoryBudgetLedger"/>.</summary>
public sealed class InMemoryBudgetLedgerOptions
{
    /// <summary>Gets or sets a file to keep spend in across restarts (written atomically: a temporary file, then a rename); null keeps spend in memory only.</summary>
    /// <remarks>
    /// Reservations in flight are not persisted: a restart forgets them. The file is locked while a ledger uses it (through a sibling
    /// <c>.lock</c> file, unlocked when the ledger is disposed or its process dies, and left in place), so a second ledger on the same
    /// path — in this process or another — fails at start instead of writing its spend over the first one's: give each app instance its own file.
    /// </remarks>
    public string? PersistencePath { get; set; }

    /// <summary>Gets or sets how often changed spend is written to <see cref="PersistencePath"/>; it is also written on dispose.</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often reservations past their expiry are charged what they hold and closed calendar windows are compacted.</summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how many closed-window totals (one per limit and window) are kept for reports; the oldest go first.</summary>
    public int MaxClosedWindows { get; set; } = 1_000;
}
