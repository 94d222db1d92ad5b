namespace InferenceRouter;

/// <summary>Options of <see cref="InMemoryBudgetLedger"/>.</summary>
public sealed class InMemoryBudgetLedgerOptions
{
    /// <summary>Gets or sets a file to keep spend in across restarts (written atomically: a temporary file, then a rename); null keeps spend in memory only.</summary>
    /// <remarks>Reservations in flight are not persisted: a restart releases them.</remarks>
    public string? PersistencePath { get; set; }

    /// <summary>Gets or sets how often changed spend is written to <see cref="PersistencePath"/>; it is also written on dispose.</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often reservations past their expiry (never settled: a caller that vanished) are released.</summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromMinutes(1);
}
