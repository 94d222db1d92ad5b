namespace InferenceRouter;

/// <summary>Options of the budget: limits, prices, and what to do with unknown models; bound from <c>InferenceRouter:Budgets</c>.</summary>
public sealed class BudgetOptions
{
    /// <summary>The configuration section under <c>InferenceRouter</c>.</summary>
    public const string SectionName = "Budgets";

    private static readonly double[] s_defaultThresholds = [0.5, 0.8, 1.0];

    /// <summary>Gets the spending limits; every limit that applies to a call must hold.</summary>
    public List<BudgetLimit> Limits { get; } = [];

    /// <summary>The most limits a budget may have: one call holds an account in each that applies, and a ledger's reservation holds at most this many.</summary>
    internal const int MaxLimits = 64;

    /// <summary>
    /// Gets prices by model id; they add to (and override) the model catalog's. Kept for compatibility: prefer
    /// <c>InferenceRouter:ModelCatalog:Models:&lt;model&gt;</c> (<see cref="ModelCatalogOptions.Models"/>), which also gives the window, output
    /// limit and capabilities. Where both price a model, this wins.
    /// </summary>
    public Dictionary<string, ModelPrice> Prices { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets or sets a value indicating whether to start from the catalog shipped with the package (<see cref="ModelCatalog.Default"/>).
    /// Kept for compatibility: off, the router's catalog starts empty too, as <c>InferenceRouter:ModelCatalog:UseDefault</c> = false does.
    /// </summary>
    public bool UseDefaultPriceCatalog { get; set; } = true;

    /// <summary>
    /// Gets or sets a JSON catalog file to load (after the model catalog, before <see cref="Prices"/>). Kept for compatibility: prefer
    /// <c>InferenceRouter:ModelCatalog:Path</c> (<see cref="ModelCatalogOptions.Path"/>); the file format is the same.
    /// </summary>
    public string? PriceCatalogPath { get; set; }

    /// <summary>Gets or sets what to do with a model that has no price anywhere.</summary>
    public UnknownModelPricing UnknownModelPricing { get; set; } = UnknownModelPricing.Reject;

    /// <summary>
    /// Gets or sets what a limit scoped to every tenant does with a call that names no tenant: refuse it (<see cref="UnknownTenantPolicy.Reject"/>,
    /// the default), charge all such calls to one shared account, or leave them unchecked by tenant limits.
    /// </summary>
    public UnknownTenantPolicy UnknownTenant { get; set; } = UnknownTenantPolicy.Reject;

    /// <summary>Gets or sets the fractions of a limit at which <see cref="BudgetManager.ThresholdCrossed"/> fires and a warning is logged, once per crossing; 0.5, 0.8 and 1.0 when unset.</summary>
    public double[]? Thresholds { get; set; }

    /// <summary>Gets or sets the time zone of day and month windows (a system time-zone id); UTC by default.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>
    /// Gets the input tokens reserved per media item of a prompt (images, documents, audio, video, files by id), inline or by URL: the
    /// request does not say what a provider bills for them. See <see cref="MediaTokenBounds"/> for the defaults.
    /// </summary>
    public MediaTokenBounds MediaTokens { get; } = new();

    /// <summary>Gets or sets the output tokens to reserve for when neither the request (<c>MaxOutputTokens</c>) nor the route sets a limit.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 4096;

    /// <summary>
    /// Gets or sets the output tokens a stream that ended before it was complete (the caller cancelled or stopped reading, it timed out, was
    /// cut, or lost a hedge) is charged on top of what it delivered: its provider generated on until it saw the stream go, and bills that.
    /// Never more than the output the call reserved; 4096 by default. 0 charges only what arrived (right for a provider known to stop at
    /// once); raise it for reasoning models that think long before their first visible token.
    /// </summary>
    public int UnreceivedOutputAllowance { get; set; } = 4096;

    /// <summary>
    /// Gets or sets how long a reservation may stay unsettled before the ledger charges it the amount it holds (a call that outlives it is
    /// trued up to its real cost when it settles, logged and counted). Set it above your longest call.
    /// </summary>
    public TimeSpan ReservationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets a value indicating whether cost and token metrics carry the tenant id as a tag. Off by default: tenant ids are unbounded
    /// (every tenant is a new time series) and may be customer identifiers your metrics backend should not hold.
    /// </summary>
    public bool TenantInMetrics { get; set; }

    /// <summary>Gets or sets a file the default in-memory ledger keeps spend in across restarts; null keeps it in memory only.</summary>
    public string? PersistencePath { get; set; }

    internal IReadOnlyList<double> EffectiveThresholds => Thresholds ?? s_defaultThresholds;

    /// <summary>Lists what is wrong with the options, each with the fix.</summary>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors()
    {
        if (Limits.Count > MaxLimits)
        {
            yield return $"{SectionName}:Limits has {Limits.Count} limits; at most {MaxLimits} can apply to one call (a reservation holds one account per limit). Merge some, or scope them by tag.";
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < Limits.Count; i++)
        {
            var path = $"{SectionName}:Limits:{i}";
            if (Limits[i] is not { } limit)
            {
                yield return $"{path} is empty; remove it or give Scope, Window and Amount.";
                continue;
            }

            foreach (var error in limit.GetValidationErrors(path))
            {
                yield return error;
            }

            if (!names.Add(limit.DisplayName))
            {
                yield return $"{path} is named '{limit.DisplayName}' like an earlier limit; give one of them a distinct Name.";
            }
        }

        foreach (var (model, price) in Prices)
        {
            if (price?.ToPricing().GetValidationError($"{SectionName}:Prices:{model}") is { } error)
            {
                yield return error;
            }

            foreach (var tierError in price?.LongContext?.GetValidationErrors($"{SectionName}:Prices:{model}:LongContext") ?? [])
            {
                yield return tierError;
            }
        }

        foreach (var threshold in EffectiveThresholds)
        {
            if (!(threshold > 0 && threshold <= 10))
            {
                yield return $"{SectionName}:Thresholds contains {threshold}; thresholds are fractions of a limit, e.g. 0.5, 0.8, 1.0.";
            }
        }

        if (!TryFindTimeZone(TimeZone, out _))
        {
            yield return $"{SectionName}:TimeZone '{TimeZone}' is not a time zone this system knows; use an id such as 'UTC' or 'Europe/Paris'.";
        }

        if (!Enum.IsDefined(UnknownTenant))
        {
            yield return $"{SectionName}:UnknownTenant is {(int)UnknownTenant}; use Reject, SharedAccount or Allow.";
        }

        foreach (var error in MediaTokens.GetValidationErrors($"{SectionName}:MediaTokens"))
        {
            yield return error;
        }

        if (DefaultMaxOutputTokens <= 0)
        {
            yield return $"{SectionName}:DefaultMaxOutputTokens is {DefaultMaxOutputTokens}; give a positive number of tokens (e.g. 4096).";
        }

        if (UnreceivedOutputAllowance < 0)
        {
            yield return $"{SectionName}:UnreceivedOutputAllowance is {UnreceivedOutputAllowance}; give 0 or more output tokens (e.g. 4096) to charge a stream that ended early for what it generated but did not deliver.";
        }

        if (ReservationTimeout <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:ReservationTimeout is {ReservationTimeout}; give a positive duration longer than your longest call (e.g. 00:10:00).";
        }

        if (PriceCatalogPath is { } catalog && !File.Exists(catalog))
        {
            yield return $"{SectionName}:PriceCatalogPath '{catalog}' does not exist; fix the path or remove the setting.";
        }
    }

    internal static bool TryFindTimeZone(string? id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id))
        {
            return false;
        }

        return string.Equals(id, "UTC", StringComparison.OrdinalIgnoreCase) || TimeZoneInfo.TryFindSystemTimeZoneById(id, out zone!);
    }
}
