using System.Text;
using System.Text.RegularExpressions;

namespace InferenceRouter;

/// <summary>
/// Provider error text as the router repeats it — in every log line, <c>Activity</c> status and exception message it builds
/// (<see cref="AllRoutesFailedException"/>, <see cref="InvalidResponseException"/>, <see cref="RouteAttempt.ToString"/>). Servers echo what
/// they were sent: the prompt (Ollama's 400 quotes it), the request body (validation errors), the <c>Authorization</c> header. So the
/// text is scrubbed here, in the one place every such site uses: the call's own text is removed where the router saw the failure
/// (<see cref="Observe"/>), credentials are redacted (every configured key by value,
/// <see cref="KnownSecrets"/>; bearer and basic tokens; <c>sk-…</c>-like keys; <c>api-key: …</c>-like echoes), quoted text is removed
/// (what a server quotes is what it was sent), the response headers a client appends are dropped, and what is left is one line of at
/// most <see cref="MaxLength"/> characters.
/// </summary>
/// <remarks>
/// What stays: the provider's own words (<c>model not found</c>, <c>maximum context length is 8192 tokens</c>), statuses, JSON keys and
/// the values of <c>type</c>, <c>code</c>, <c>param</c> and <c>status</c>. Content a server echoes without quotes cannot be told from
/// its own words and is cut only by the length limit. The provider's exception itself is left unchanged for the caller; the router never
/// logs it whole. Thread-safe; runs on failures only.
/// </remarks>
internal static partial class ErrorText
{
    /// <summary>The longest text kept.</summary>
    public const int MaxLength = 200;

    private const string Redacted = "***";

    /// <summary>Keys whose quoted values are the server's vocabulary (error types and codes), never request content.</summary>
    private static readonly string[] s_vocabularyKeys = ["type", "code", "param", "status", "error_type", "error_code"];

    /// <summary>Gets the exception's message, scrubbed.</summary>
    /// <param name="error">The exception.</param>
    /// <returns>One line, at most <see cref="MaxLength"/> characters, without quoted text or credentials.</returns>
    public static string Of(Exception error) => ScrubMessageOf(error);

    /// <summary>Gets the exception's type and scrubbed message, then each inner exception's (<c>HttpRequestException: … ← SocketException: …</c>).</summary>
    /// <param name="error">The exception.</param>
    /// <returns>The chain, each message scrubbed.</returns>
    public static string Chain(Exception error)
    {
        var text = new StringBuilder();
        int depth = 0;
        for (var e = error; e is not null && depth < 5; e = e.InnerException, depth++)
        {
            text.Append(depth == 0 ? string.Empty : " ← ").Append(e.GetType().FullName).Append(": ").Append(ScrubMessageOf(e));
        }

        return text.ToString();
    }

    /// <summary>Scrubs provider text: credentials redacted, quoted text removed, response headers dropped, one line, capped.</summary>
    /// <param name="text">The text, e.g. an exception's message or an error event's message.</param>
    /// <returns>The scrubbed text.</returns>
    public static string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        // Configured keys first, over the whole text: a cut below must never leave half a key behind.
        foreach (var secret in KnownSecrets.Values)
        {
            text = text.Replace(secret, Redacted, StringComparison.OrdinalIgnoreCase); // a server may change its case
        }

        // System.ClientModel (OpenAI SDK) appends the response headers to its messages: none of them explains an error.
        int headers = text.IndexOf("\nHeaders:", StringComparison.Ordinal);
        if (headers >= 0)
        {
            text = text[..headers];
        }

        // The length limit applies at the end; a very long text is cut first, with room for what scrubbing removes.
        if (text.Length > MaxLength * 20)
        {
            text = text[..(MaxLength * 20)];
        }

        text = BearerToken().Replace(text, "$1 " + Redacted);
        text = CredentialEcho().Replace(text, "$1$2" + Redacted);
        text = KeyShapedToken().Replace(text, Redacted);
        text = WithoutQuotedText(text);
        text = Whitespace().Replace(text, " ").Trim();
        return text.Length <= MaxLength ? text : string.Concat(text.AsSpan(0, MaxLength), "…");
    }

    /// <summary>Replaces what is quoted ("…", '…', `…`, “…”, ‘…’, «…») with an ellipsis, keeping JSON keys and vocabulary values.</summary>
    private static string WithoutQuotedText(string text)
    {
        StringBuilder? result = null;
        int copied = 0;
        string? lastKey = null;
        for (int i = 0; i < text.Length; i++)
        {
            char open = text[i];
            char close = open switch
            {
                '"' => '"',
                '`' => '`',
                '\'' => '\'',
                '“' => '”',
                '‘' => '’',
                '«' => '»',
                _ => '\0',
            };
            if (close == '\0' || (open is '\'' or '‘' && i > 0 && char.IsLetterOrDigit(text[i - 1])))
            {
                continue; // not a quote, or an apostrophe inside a word (model's)
            }

            int end = FindClose(text, i + 1, close);
            var quoted = text.AsSpan(i + 1, (end < 0 ? text.Length : end) - i - 1);
            bool isKey = end >= 0 && FollowedByColon(text, end + 1);
            if (end >= 0 && IsIdentifier(quoted) &&
                (isKey || (lastKey is not null && Array.Exists(s_vocabularyKeys, k => k.Equals(lastKey, StringComparison.OrdinalIgnoreCase)))))
            {
                lastKey = isKey ? quoted.ToString() : null;
                i = end;
                continue;
            }

            lastKey = null;
            result ??= new StringBuilder(text.Length);
            result.Append(text, copied, i - copied).Append(open).Append('…');
            if (end < 0)
            {
                return result.ToString(); // unterminated: everything after the quote goes
            }

            result.Append(close);
            copied = end + 1;
            i = end;
        }

        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();
    }

    private static int FindClose(string text, int from, char close)
    {
        for (int j = from; j < text.Length; j++)
        {
            if (text[j] == '\\' && close == '"')
            {
                j++; // an escaped quote inside a JSON string
            }
            else if (text[j] == close && (close is not '\'' and not '’' || j + 1 == text.Length || !char.IsLetterOrDigit(text[j + 1])))
            {
                return j;
            }
        }

        return -1;
    }

    private static bool FollowedByColon(string text, int from)
    {
        while (from < text.Length && text[from] == ' ')
        {
            from++;
        }

        return from < text.Length && text[from] == ':';
    }

    private static bool IsIdentifier(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > 64)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex(@"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/=]{6,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BearerToken();

    // A header or parameter echoed with its value: "x-api-key: abc", "api_key=abc", "\"authorization\":\"abc\"".
    [GeneratedRegex(@"\b(authorization|proxy-authorization|x-api-key|api-key|api_key|apikey|x-goog-api-key|access_token|client_secret|password|secret)(\\?[""']?\s*[:=]\s*\\?[""']?)(?!\*\*\*)[^\s""',;&}\\]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CredentialEcho();

    // Keys by their shape: OpenAI/Anthropic sk-…, Groq gsk_…, xAI xai-…, Hugging Face hf_…, GitHub ghp_…, Google AIza…, JWTs (eyJ….….…).
    [GeneratedRegex(@"\b(?:(?:sk|rk|gsk|xai|hf|ghp|gho|github_pat)[-_][A-Za-z0-9\-_]{8,}|AIza[0-9A-Za-z\-_]{30,}|eyJ[A-Za-z0-9\-_]{8,}\.[A-Za-z0-9\-_]{8,}\.[A-Za-z0-9\-_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex KeyShapedToken();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
