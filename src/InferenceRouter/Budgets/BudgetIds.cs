namespace InferenceRouter;

/// <summary>
/// Turns caller-supplied tenant and user ids into account scope values that no other combination of ids can name. The ids are the
/// caller's (any characters, from a header or a token), and a scope value becomes a key in memory, in the ledger file (JSON) and in
/// Redis (UTF-8): so the mapping must be injective and survive every one of those encodings.
/// </summary>
/// <remarks>
/// <c>%</c> becomes <c>%25</c>, a <c>/</c> where it would be read as the tenant/user separator becomes <c>%2F</c>, and a lone surrogate
/// (not valid UTF-16: UTF-8 and JSON would turn every one of them into the same replacement character) becomes <c>%uXXXX</c>. Each escape
/// starts with <c>%</c>, which never stands for itself, and no escape is the start of another, so different ids never meet. Ordinary ids
/// (<c>acme</c>, <c>user-17</c>, <c>bob@example.com</c>, <c>山田</c>) come back unchanged, without allocating.
/// </remarks>
internal static class BudgetIds
{
    /// <summary>
    /// The scope value of the account tenant-less calls share under <see cref="UnknownTenantPolicy.SharedAccount"/>: it starts with a
    /// <c>%</c> not followed by an escape (<c>25</c>, <c>2F</c>, <c>u</c>), which <see cref="Tenant"/> never returns for any id.
    /// </summary>
    public const string NoTenant = "%(no tenant)";

    /// <summary>The scope value of a tenant's account.</summary>
    public static string Tenant(string tenant) => Escape(tenant, slash: false);

    /// <summary>
    /// The scope value of a user's account: <c>tenant/user</c> (the tenant's <c>/</c> escaped, so the first <c>/</c> always separates),
    /// or for a call without a tenant the user alone with every <c>/</c> escaped, so it never reads as a tenant's user.
    /// </summary>
    public static string User(string? tenant, string user) =>
        tenant is null ? Escape(user, slash: true) : string.Concat(Escape(tenant, slash: true), "/", Escape(user, slash: false));

    private static string Escape(string id, bool slash)
    {
        var span = id.AsSpan();
        if ((slash ? span.IndexOfAny('%', '/') : span.IndexOf('%')) < 0 && span.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            return id;
        }

        var escaped = new System.Text.StringBuilder(id.Length + 8);
        for (int i = 0; i < id.Length; i++)
        {
            char c = id[i];
            if (c == '%')
            {
                escaped.Append("%25");
            }
            else if (c == '/' && slash)
            {
                escaped.Append("%2F");
            }
            else if (char.IsHighSurrogate(c) && i + 1 < id.Length && char.IsLowSurrogate(id[i + 1]))
            {
                escaped.Append(c).Append(id[++i]);
            }
            else if (char.IsSurrogate(c))
            {
                escaped.Append("%u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }
}
