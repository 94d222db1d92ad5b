namespace InferenceRouter;

/// <summary>One spending limit: a scope, a window, an amount and what to do when a call would cross it.</summary>
/// <remarks>
/// A limit whose <see cref="Key"/> is empty applies to every value of its scope separately (each tenant gets its own daily limit);
/// with a key it applies to that value only. A call is charged in every limit that applies to it, and must fit all of them.
/// Calls without a tenant (user) are not counted in tenant (user) limits.
/// </remarks>
public sealed class BudgetLimit
{
    /// <summary>Gets or sets a name for logs, reports and exceptions; defaults to one made of scope, key and window.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets what the limit counts over.</summary>
    public BudgetScope Scope { get; set; }

    /// <summary>
    /// Gets or sets the one tenant, user, route, model or tag (<c>key=value</c>) the limit is for; empty for each value separately. Ignored for
    /// <see cref="BudgetScope.Global"/>. A user limit's key is a user id (that user in every tenant, each tenant's user with its own account)
    /// or <c>tenant/user</c> (that tenant's user only).
    /// </summary>
    public string? Key { get; set; }

    /// <summary>Gets or sets the window spend is counted in.</summary>
    public BudgetWindow Window { get; set; } = BudgetWindow.Lifetime;

    /// <summary>Gets or sets the length of a <see cref="BudgetWindow.Rolling"/> window, in hours.</summary>
    public double RollingHours { get; set; }

    /// <summary>Gets or sets the most that may be spent in one window, in the catalog's currency; must be positive.</summary>
    public decimal Amount { get; set; }

    /// <summary>Gets or sets what happens to a call that does not fit.</summary>
    public BudgetEnforcement Enforcement { get; set; } = BudgetEnforcement.Reject;

    /// <summary>Gets the name used in reports: <see cref="Name"/>, or one made of scope, key and window (<c>tenant:acme/day</c>).</summary>
    public string DisplayName => Name ?? $"{Scope.ToString().ToLowerInvariant()}{(string.IsNullOrEmpty(Key) || Scope == BudgetScope.Global ? string.Empty : ":" + Key)}/{WindowName}";

    private CalendarWindow? _current;

    internal TimeSpan RollingPeriod => Window == BudgetWindow.Rolling ? TimeSpan.FromHours(RollingHours) : TimeSpan.Zero;

    private string WindowName => Window == BudgetWindow.Rolling ? $"{RollingHours:G}h" : Window.ToString().ToLowerInvariant();

    /// <summary>Lists what is wrong with the limit, each with the fix.</summary>
    /// <param name="path">Where the limit sits (for messages), e.g. <c>Budgets:Limits:0</c>.</param>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors(string path)
    {
        if (Amount <= 0)
        {
            yield return $"{path}:Amount is {Amount}; a limit must be a positive amount (to block a scope entirely, use a tag or route filter instead).";
        }

        if (Amount > BudgetUnits.MaxAmount)
        {
            yield return $"{path}:Amount is {Amount}; a limit is at most {BudgetUnits.MaxAmount:0} (ledgers keep exact integer units of 10⁻¹⁰ up to that). Lower it, or remove the limit to leave the scope unlimited.";
        }

        if (!Enum.IsDefined(Scope))
        {
            yield return $"{path}:Scope is {Scope}; use one of {string.Join(", ", Enum.GetNames<BudgetScope>())}.";
        }

        if (!Enum.IsDefined(Window))
        {
            yield return $"{path}:Window is {Window}; use one of {string.Join(", ", Enum.GetNames<BudgetWindow>())}.";
        }

        if (Window == BudgetWindow.Rolling && !(RollingHours > 0 && RollingHours <= 24 * 366))
        {
            yield return $"{path}:RollingHours is {RollingHours}; a Rolling window needs a length between 0 and 8784 hours (e.g. 24).";
        }

        if (Scope == BudgetScope.Tag && (string.IsNullOrEmpty(Key) || !Key.Contains('=', StringComparison.Ordinal)))
        {
            yield return $"{path}:Key is '{Key}'; a Tag limit names the tag as key=value, e.g. 'tier=premium'.";
        }
    }

    /// <summary>Returns whether the limit counts a call with these dimensions, and under which value.</summary>
    /// <remarks>Tenant and user ids are escaped (<see cref="BudgetIds"/>): no combination of ids names another's account.</remarks>
    internal bool TryGetScopeValue(string? tenant, string? user, BudgetTarget target, UnknownTenantPolicy unknownTenant, out string value)
    {
        value = string.Empty;
        switch (Scope)
        {
            case BudgetScope.Global:
                return true;
            // A keyed limit matches its id in any case, and then names its account in the key's own spelling: "ACME" and "acme" share
            // the keyed limit's one account instead of each getting the whole amount. Unkeyed limits take ids exactly as written.
            case BudgetScope.Tenant when tenant is not null && string.IsNullOrEmpty(Key):
                value = BudgetIds.Tenant(tenant);
                return true;
            case BudgetScope.Tenant when tenant is not null && string.Equals(Key, tenant, StringComparison.OrdinalIgnoreCase):
                value = BudgetIds.Tenant(Key!);
                return true;
            case BudgetScope.Tenant when tenant is null && string.IsNullOrEmpty(Key) && unknownTenant == UnknownTenantPolicy.SharedAccount:
                // Reject never gets here (the manager refuses the call first); Allow leaves the call out of this limit.
                value = BudgetIds.NoTenant;
                return true;
            case BudgetScope.User when user is not null && string.IsNullOrEmpty(Key):
                value = BudgetIds.User(tenant, user);
                return true;
            case BudgetScope.User when user is not null && IsKeyFor(tenant, user):
                value = Key!.Length == user.Length ? BudgetIds.User(tenant, Key) : BudgetIds.User(Key[..tenant!.Length], Key[(tenant.Length + 1)..]);
                return true;
            case BudgetScope.Route when target.Route is { } route && (string.IsNullOrEmpty(Key) || string.Equals(Key, route, StringComparison.OrdinalIgnoreCase)):
                value = route;
                return true;
            case BudgetScope.Model when target.ModelId is { } model && (string.IsNullOrEmpty(Key) || string.Equals(Key, model, StringComparison.OrdinalIgnoreCase)):
                value = model;
                return true;
            case BudgetScope.Tag when target.HasTag(Key!):
                value = Key!;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A user limit's key names a user id (that user in every tenant) or <c>tenant/user</c> (that tenant's user), as the ids are written.</summary>
    private bool IsKeyFor(string? tenant, string user)
    {
        var key = Key.AsSpan();
        if (key.Equals(user, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return tenant is not null && key.Length == tenant.Length + 1 + user.Length && key[tenant.Length] == '/' &&
            key[..tenant.Length].Equals(tenant, StringComparison.OrdinalIgnoreCase) && key[(tenant.Length + 1)..].Equals(user, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Gets the calendar window holding <paramref name="now"/> (start and end), computed once per window and zone, not per call.</summary>
    internal (DateTimeOffset Start, DateTimeOffset? End) GetWindow(DateTimeOffset now, TimeZoneInfo zone)
    {
        if (Window is BudgetWindow.Lifetime or BudgetWindow.Rolling)
        {
            return (DateTimeOffset.UnixEpoch, null);
        }

        var current = Volatile.Read(ref _current);
        if (current is null || !ReferenceEquals(current.Zone, zone) || now < current.Start || now >= current.End)
        {
            var start = GetWindowStart(now, zone);
            current = new CalendarWindow(zone, start, GetWindowEnd(start, zone)!.Value);
            Volatile.Write(ref _current, current);
        }

        return (current.Start, current.End);
    }

    /// <summary>Gets the end of the calendar window that starts at <paramref name="start"/>; null for lifetime and rolling windows.</summary>
    internal DateTimeOffset? GetWindowEnd(DateTimeOffset start, TimeZoneInfo zone)
    {
        if (Window is BudgetWindow.Lifetime or BudgetWindow.Rolling)
        {
            return null;
        }

        if (ReferenceEquals(zone, TimeZoneInfo.Utc))
        {
            return Window == BudgetWindow.Day ? start.AddDays(1) : start.AddMonths(1);
        }

        var local = TimeZoneInfo.ConvertTime(start, zone).DateTime;
        var next = Window == BudgetWindow.Day ? local.Date.AddDays(1) : new DateTime(local.Year, local.Month, 1).AddMonths(1);
        return new DateTimeOffset(next, zone.GetUtcOffset(next)).ToUniversalTime();
    }

    /// <summary>Gets the start of the calendar window holding <paramref name="now"/> (in <paramref name="zone"/>); the epoch for lifetime and rolling windows.</summary>
    internal DateTimeOffset GetWindowStart(DateTimeOffset now, TimeZoneInfo zone)
    {
        if (Window is BudgetWindow.Lifetime or BudgetWindow.Rolling)
        {
            return DateTimeOffset.UnixEpoch;
        }

        if (ReferenceEquals(zone, TimeZoneInfo.Utc))
        {
            // The common case, without time-zone conversion on every call.
            var utc = now.UtcDateTime;
            return new DateTimeOffset(Window == BudgetWindow.Day ? utc.Date : new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc));
        }

        var local = TimeZoneInfo.ConvertTime(now, zone);
        var start = Window == BudgetWindow.Day ? local.Date : new DateTime(local.Year, local.Month, 1, 0, 0, 0, DateTimeKind.Unspecified);
        return new DateTimeOffset(start, zone.GetUtcOffset(start)).ToUniversalTime();
    }

    private sealed record CalendarWindow(TimeZoneInfo Zone, DateTimeOffset Start, DateTimeOffset End);
}
