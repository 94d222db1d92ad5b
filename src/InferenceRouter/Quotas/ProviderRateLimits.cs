using System.Globalization;

namespace InferenceRouter;

/// <summary>
/// What a route's provider says about its limits in each response's headers — OpenAI's and Azure OpenAI's
/// <c>x-ratelimit-limit-*</c> / <c>x-ratelimit-remaining-*</c> / <c>x-ratelimit-reset-*</c> (durations such as <c>1s</c>, <c>6m0s</c>,
/// <c>20ms</c>), Anthropic's <c>anthropic-ratelimit-*-limit</c> / <c>-remaining</c> / <c>-reset</c> (RFC 3339 times) — handed to the route's
/// quota, so a route with no declared quota still slows down before the provider answers 429.
/// </summary>
/// <remarks>
/// <para>One per route. The provider's HTTP pipeline publishes to it (<see cref="CreateHandler"/>, a <see cref="DelegatingHandler"/>; the
/// OpenAI package also has a pipeline policy) and the route's client exposes it (<c>GetService(typeof(ProviderRateLimits))</c>,
/// <see cref="ProviderRateLimitsChatClientExtensions.WithProviderRateLimits"/>); the router subscribes the route's quota when it takes the
/// route. Routes built from configuration get both from their provider package.</para>
/// <para>A value that is not a number, is negative or beyond any real limit, or a reset that is not a duration or time within a day, is
/// ignored and counted (<see cref="IgnoredValues"/>); it never fails a call. Thread-safe.</para>
/// </remarks>
public sealed class ProviderRateLimits
{
    private const long MostPlausible = 1_000_000_000; // no provider states a per-minute limit beyond this: a larger value is garbage
    private static readonly TimeSpan s_longestReset = TimeSpan.FromDays(1);

    private readonly TimeProvider _clock;
    private Action<ProviderRateLimitReading>? _listener;
    private long _ignored;
    private long _readings;

    /// <summary>Creates the record.</summary>
    /// <param name="clock">The clock Anthropic's reset times are read against; the system's by default.</param>
    public ProviderRateLimits(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary>Gets how many header values were ignored as unreadable (not a number, negative, implausibly large, a reset beyond a day).</summary>
    public long IgnoredValues => Interlocked.Read(ref _ignored);

    /// <summary>Gets how many readings (a response's requests or tokens headers) were handed to the route's quota.</summary>
    public long Readings => Interlocked.Read(ref _readings);

    /// <summary>Creates a handler for the provider's <see cref="HttpClient"/> that reads every response's rate-limit headers into this record.</summary>
    /// <returns>The handler; set its <see cref="DelegatingHandler.InnerHandler"/> (or pass it to <see cref="HttpClient"/> over a primary handler).</returns>
    public DelegatingHandler CreateHandler() => new ProviderRateLimitsHandler(this);

    /// <summary>Reads one response's rate-limit headers (for pipelines other than <see cref="HttpClient"/>'s, such as an SDK's own).</summary>
    /// <param name="header">Returns a response header's value by name (case-insensitive), or null when absent.</param>
    public void Observe(Func<string, string?> header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var listener = Volatile.Read(ref _listener);

        Read(header, "requests", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", rfc3339: false, listener);
        Read(header, "tokens", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", rfc3339: false, listener);
        Read(header, "requests", "anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", rfc3339: true, listener);
        Read(header, "tokens", "anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", rfc3339: true, listener);
    }

    /// <summary>Subscribes the route's quota (one per record: the router that takes the route).</summary>
    internal void Subscribe(Action<ProviderRateLimitReading> listener) => Volatile.Write(ref _listener, listener);

    /// <summary>Reads an OpenAI reset duration: <c>20ms</c>, <c>1s</c>, <c>1.5s</c>, <c>6m0s</c>, <c>1h2m3s</c>.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return false;
        }

        double total = 0;
        while (!span.IsEmpty)
        {
            int digits = 0;
            while (digits < span.Length && (char.IsAsciiDigit(span[digits]) || span[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !double.TryParse(span[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            {
                return false;
            }

            span = span[digits..];
            double seconds;
            if (span.StartsWith("ms"))
            {
                seconds = value / 1000;
                span = span[2..];
            }
            else if (span.StartsWith("h"))
            {
                seconds = value * 3600;
                span = span[1..];
            }
            else if (span.StartsWith("m"))
            {
                seconds = value * 60;
                span = span[1..];
            }
            else if (span.StartsWith("s"))
            {
                seconds = value;
                span = span[1..];
            }
            else
            {
                return false;
            }

            total += seconds;
        }

        if (!(total <= s_longestReset.TotalSeconds))
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(total);
        return true;
    }

    private void Read(Func<string, string?> header, string kind, string limitName, string remainingName, string resetName, bool rfc3339, Action<ProviderRateLimitReading>? listener)
    {
        string? remainingText = header(remainingName);
        if (remainingText is null)
        {
            return;
        }

        if (!TryCount(remainingText, out long remaining))
        {
            Interlocked.Increment(ref _ignored);
            return;
        }

        long? limit = null;
        if (header(limitName) is { } limitText)
        {
            if (TryCount(limitText, out long parsed) && parsed > 0)
            {
                limit = parsed;
            }
            else
            {
                Interlocked.Increment(ref _ignored);
            }
        }

        TimeSpan? reset = null;
        if (header(resetName) is { } resetText)
        {
            if (rfc3339 ? TryParseTime(resetText, out var untilFull) : TryParseDuration(resetText, out untilFull))
            {
                reset = untilFull;
            }
            else
            {
                Interlocked.Increment(ref _ignored);
            }
        }

        Interlocked.Increment(ref _readings);
        listener?.Invoke(new ProviderRateLimitReading(kind == "tokens", limit, Math.Min(remaining, limit ?? remaining), reset));
    }

    private bool TryParseTime(string text, out TimeSpan untilThen)
    {
        untilThen = TimeSpan.Zero;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }

        var wait = time - _clock.GetUtcNow();
        if (wait > s_longestReset || wait < -TimeSpan.FromMinutes(1))
        {
            return false;
        }

        untilThen = wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        return true;
    }

    private static bool TryCount(string text, out long value) =>
        long.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= MostPlausible;
}
