using System.Globalization;
using System.Net.Http.Headers;

namespace InferenceRouter;

/// <summary>
/// What a route's provider last asked callers to wait for, read from the headers of its HTTP error responses (<c>Retry-After</c> in
/// seconds or as a date, <c>retry-after-ms</c>, <c>x-ratelimit-reset-requests</c> / <c>-tokens</c>, <c>anthropic-ratelimit-*-reset</c>),
/// for failure classifiers whose SDK's exceptions do not carry the response's headers (Anthropic, OllamaSharp). Its handler
/// (<see cref="CreateHandler"/>) sits on the HTTP client of every route the router builds from configuration
/// (<see cref="RouteProviderContext.RetryAfter"/>); the route's classifier asks it (<see cref="TryGetRetryAfter"/>) about the error it classifies.
/// </summary>
/// <remarks>
/// One per route, shared by the route's concurrent calls: the wait a provider asks for is the route's (its account's rate limit), so the
/// latest error response with the failure's status answers for it. The wait is kept as an absolute time, so an old one expires by
/// itself. Lock-free; the success path costs one status comparison.
/// </remarks>
public sealed class ProviderRetryAfter
{
    private readonly TimeProvider _clock;
    private Recorded? _last;

    /// <summary>Creates an empty record.</summary>
    /// <param name="clock">The clock HTTP-date values and the waits are measured on (the router's); <see cref="TimeProvider.System"/> by default.</param>
    public ProviderRetryAfter(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary>Creates a handler that records the waits of the error responses passing through it; put it on the route's HTTP client (outermost).</summary>
    /// <returns>A new handler (a handler belongs to one pipeline).</returns>
    public DelegatingHandler CreateHandler() => new ProviderRetryAfterHandler(this);

    /// <summary>Returns the wait the route's latest error response with <paramref name="statusCode"/> asked for, when it asked for one that has not passed.</summary>
    /// <param name="statusCode">The failure's HTTP status (the latest error response must have it).</param>
    /// <param name="clock">The router's clock.</param>
    /// <param name="wait">What is left of the wait.</param>
    /// <returns><see langword="true"/> when there is a wait left.</returns>
    public bool TryGetRetryAfter(int statusCode, TimeProvider clock, out TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var last = Volatile.Read(ref _last);
        if (last is not null && last.Status == statusCode && last.Until is { } until && until > clock.GetUtcNow())
        {
            wait = until - clock.GetUtcNow();
            return wait > TimeSpan.Zero;
        }

        wait = default;
        return false;
    }

    /// <summary>
    /// Reads the wait a response's headers ask for, the same way for every provider: <c>retry-after-ms</c>, else <c>Retry-After</c>
    /// (seconds or an HTTP date), else the reset of an exhausted rate limit (<c>x-ratelimit-reset-requests</c> / <c>-tokens</c> as OpenAI
    /// writes durations, <c>anthropic-ratelimit-requests-reset</c> / <c>-tokens-reset</c> as dates). Infinite, huge or NaN values are
    /// clamped to <see cref="RouterOptions.MaxTimeout"/>; a date in the past is zero.
    /// </summary>
    /// <param name="header">Returns a header's value by its name (case-insensitive), or null.</param>
    /// <param name="now">The time now, on the router's clock.</param>
    /// <returns>The wait; null when no header says one.</returns>
    public static TimeSpan? Read(Func<string, string?> header, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header("retry-after-ms") is { } ms && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return Clamp(millis);
        }

        if (header("Retry-After") is { } value)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return Clamp(seconds * 1000);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                return Until(date, now);
            }
        }

        // Rate-limit resets: the limit that ran out (remaining 0) says how long; when none says so, the soonest reset.
        TimeSpan? exhausted = null, soonest = null;
        foreach (var (reset, remaining) in (ReadOnlySpan<(string, string)>)[
            ("x-ratelimit-reset-requests", "x-ratelimit-remaining-requests"), ("x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens"),
            ("anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining"), ("anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining")])
        {
            if (header(reset) is not { } text || ParseReset(text, now) is not { } wait)
            {
                continue;
            }

            if (header(remaining) is "0")
            {
                exhausted = exhausted is { } e && e > wait ? e : wait;
            }

            soonest = soonest is { } s && s < wait ? s : wait;
        }

        return exhausted ?? soonest;
    }

    /// <summary>Records an error response's status and the wait its headers ask for (none replaces an older one: it no longer speaks for the route).</summary>
    internal void Record(HttpResponseMessage response)
    {
        var headers = response.Headers;
        var now = _clock.GetUtcNow();
        var wait = Read(name => Header(headers, name), now);
        Volatile.Write(ref _last, new Recorded((int)response.StatusCode, wait is { } w ? now + w : null));
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>An OpenAI-style duration (<c>1s</c>, <c>6m0s</c>, <c>20ms</c>, <c>1.5s</c>), a number of seconds, or a date.</summary>
    private static TimeSpan? ParseReset(string text, DateTimeOffset now)
    {
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return Clamp(seconds * 1000);
        }

        double total = 0;
        int i = 0;
        bool any = false;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                any = false;
                break;
            }

            int unit = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            double scale = text.AsSpan(unit, i - unit) switch { "h" => 3_600_000, "m" => 60_000, "s" => 1_000, "ms" => 1, _ => double.NaN };
            if (double.IsNaN(scale))
            {
                any = false;
                break;
            }

            total += number * scale;
            any = true;
        }

        if (any)
        {
            return Clamp(total);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? Until(date, now) : null;
    }

    private static TimeSpan Until(DateTimeOffset date, DateTimeOffset now)
    {
        var delay = date - now;
        return delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > RouterOptions.MaxTimeout ? RouterOptions.MaxTimeout : delay;
    }

    /// <summary>A wait in milliseconds, clamped: infinite, huge or NaN values from a server never overflow a <see cref="TimeSpan"/>.</summary>
    private static TimeSpan Clamp(double milliseconds) =>
        double.IsNaN(milliseconds) || milliseconds >= RouterOptions.MaxTimeout.TotalMilliseconds ? RouterOptions.MaxTimeout : TimeSpan.FromMilliseconds(milliseconds);

    private sealed record Recorded(int Status, DateTimeOffset? Until);
}
