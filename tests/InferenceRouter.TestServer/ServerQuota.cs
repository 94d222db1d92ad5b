using System.Globalization;

namespace InferenceRouter.TestServer;

/// <summary>
/// A provider account's limits as the fake server enforces them: requests and tokens per minute, each a bucket that holds one minute's
/// worth and refills continuously (as OpenAI documents its limits), and calls at once. Beyond them it answers 429 with Retry-After; every
/// answer carries the provider's rate-limit headers (OpenAI's <c>x-ratelimit-*</c>, Anthropic's <c>anthropic-ratelimit-*</c>).
/// </summary>
/// <remarks>Thread-safe (one lock: this is the test's oracle, not the code under test). A request's tokens are the ones it is billed.</remarks>
public sealed class ServerQuota
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private double _requests;
    private double _tokens;
    private long _last;
    private int _inFlight;
    private int _admitted;
    private int _rejected;

    /// <summary>Creates the quota, its buckets full.</summary>
    /// <param name="requestsPerMinute">Requests per minute, or null for no limit.</param>
    /// <param name="tokensPerMinute">Tokens per minute, or null for no limit.</param>
    /// <param name="maxConcurrency">Requests at once, or null for no limit.</param>
    /// <param name="time">The clock; the system's by default.</param>
    public ServerQuota(int? requestsPerMinute = null, int? tokensPerMinute = null, int? maxConcurrency = null, TimeProvider? time = null)
    {
        RequestsPerMinute = requestsPerMinute;
        TokensPerMinute = tokensPerMinute;
        MaxConcurrency = maxConcurrency;
        _time = time ?? TimeProvider.System;
        _requests = requestsPerMinute ?? 0;
        _tokens = tokensPerMinute ?? 0;
        _last = _time.GetTimestamp();
    }

    /// <summary>Gets the requests per minute, or null.</summary>
    public int? RequestsPerMinute { get; }

    /// <summary>Gets the tokens per minute, or null.</summary>
    public int? TokensPerMinute { get; }

    /// <summary>Gets the most requests at once, or null.</summary>
    public int? MaxConcurrency { get; }

    /// <summary>
    /// Gets or sets how late a request may arrive after its client counted it (the network's and the client's own delay): the buckets
    /// refill continuously from the moment a request arrives, so a client that starts its bucket when it sends would otherwise be a few
    /// milliseconds' refill ahead of the server. A real provider's edge has the same slack. Default: zero.
    /// </summary>
    public TimeSpan ArrivalAllowance { get; set; }

    /// <summary>Gets or sets a value indicating whether answers carry the rate-limit headers. Default: true.</summary>
    public bool SendHeaders { get; set; } = true;

    /// <summary>Gets or sets a header value to send instead of every computed one (to test odd values), or null.</summary>
    public Func<string, string, string>? RewriteHeader { get; set; }

    /// <summary>Gets the requests admitted.</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    /// <summary>Gets the requests answered 429 because a limit was full.</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>Gets the most requests that were in flight at once.</summary>
    public int PeakConcurrency { get; private set; }

    /// <summary>Admits a request of <paramref name="tokens"/> billed tokens, or says how long until it would fit.</summary>
    /// <param name="tokens">Its tokens.</param>
    /// <param name="retryAfter">When refused: how long until it fits.</param>
    /// <returns>Whether it was admitted (then <see cref="Release"/> must follow).</returns>
    internal bool TryAdmit(int tokens, out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            Refill();
            retryAfter = TimeSpan.Zero;
            if (MaxConcurrency is { } max && _inFlight >= max)
            {
                retryAfter = TimeSpan.FromSeconds(1);
            }
            else if (RequestsPerMinute is { } rpm && _requests < 1 - (rpm * ArrivalAllowance.TotalMinutes))
            {
                retryAfter = TimeSpan.FromMinutes((1 - _requests) / rpm);
            }
            else if (TokensPerMinute is { } tpm && _tokens < tokens - (tpm * ArrivalAllowance.TotalMinutes))
            {
                retryAfter = TimeSpan.FromMinutes((tokens - _tokens) / tpm);
            }
            else
            {
                _requests -= RequestsPerMinute is null ? 0 : 1;
                _tokens -= TokensPerMinute is null ? 0 : tokens;
                _inFlight++;
                PeakConcurrency = Math.Max(PeakConcurrency, _inFlight);
                _admitted++;
                return true;
            }

            _rejected++;
            return false;
        }
    }

    /// <summary>
    /// Ends an admitted request, as far as concurrency goes: called just before the answer's last bytes are written (or when the request
    /// ended early), so a client that counts a call until it has read the whole answer never sees it end before the server does.
    /// </summary>
    /// <param name="released">The request's flag; a request is released once.</param>
    internal void Release(ref bool released)
    {
        if (released)
        {
            return;
        }

        released = true;
        lock (_lock)
        {
            _inFlight--;
        }
    }

    /// <summary>The rate-limit headers of an answer now, in the wire's own names and formats.</summary>
    /// <param name="anthropic">Anthropic's headers (RFC 3339 reset times) rather than OpenAI's (durations such as <c>6m0s</c>).</param>
    /// <returns>The headers; none when <see cref="SendHeaders"/> is off.</returns>
    internal List<(string Name, string Value)> Headers(bool anthropic)
    {
        var headers = new List<(string, string)>();
        if (!SendHeaders)
        {
            return headers;
        }

        lock (_lock)
        {
            Refill();
            Add(headers, anthropic, "requests", RequestsPerMinute, _requests);
            Add(headers, anthropic, "tokens", TokensPerMinute, _tokens);
        }

        if (RewriteHeader is { } rewrite)
        {
            for (int i = 0; i < headers.Count; i++)
            {
                headers[i] = (headers[i].Item1, rewrite(headers[i].Item1, headers[i].Item2));
            }
        }

        return headers;
    }

    /// <summary>Formats a duration as OpenAI does: <c>20ms</c>, <c>1s</c>, <c>6m0s</c>.</summary>
    /// <param name="duration">The duration.</param>
    /// <returns>The text.</returns>
    public static string OpenAIDuration(TimeSpan duration) =>
        duration < TimeSpan.FromSeconds(1) ? $"{(int)Math.Ceiling(duration.TotalMilliseconds)}ms"
        : duration < TimeSpan.FromMinutes(1) ? $"{duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s"
        : $"{(int)duration.TotalMinutes}m{(duration.TotalSeconds % 60).ToString("0.###", CultureInfo.InvariantCulture)}s";

    private void Add(List<(string, string)> headers, bool anthropic, string kind, int? limit, double left)
    {
        if (limit is not { } perMinute)
        {
            return;
        }

        long remaining = Math.Max(0, (long)Math.Floor(left)); // a provider never says less than none (the arrival allowance can run a little below)
        var untilFull = TimeSpan.FromMinutes((perMinute - left) / perMinute);
        if (anthropic)
        {
            headers.Add(($"anthropic-ratelimit-{kind}-limit", perMinute.ToString(CultureInfo.InvariantCulture)));
            headers.Add(($"anthropic-ratelimit-{kind}-remaining", remaining.ToString(CultureInfo.InvariantCulture)));
            headers.Add(($"anthropic-ratelimit-{kind}-reset", _time.GetUtcNow().Add(untilFull).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
        }
        else
        {
            headers.Add(($"x-ratelimit-limit-{kind}", perMinute.ToString(CultureInfo.InvariantCulture)));
            headers.Add(($"x-ratelimit-remaining-{kind}", remaining.ToString(CultureInfo.InvariantCulture)));
            headers.Add(($"x-ratelimit-reset-{kind}", OpenAIDuration(untilFull)));
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        double minutes = _time.GetElapsedTime(_last, now).TotalMinutes;
        _last = now;
        if (RequestsPerMinute is { } rpm)
        {
            _requests = Math.Min(rpm, _requests + (minutes * rpm));
        }

        if (TokensPerMinute is { } tpm)
        {
            _tokens = Math.Min(tpm, _tokens + (minutes * tpm));
        }
    }
}
