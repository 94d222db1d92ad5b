namespace InferenceRouter;

/// <summary>
/// The one table every provider's errors are classified by: HTTP status, the error's type and code, and, where providers say it only in
/// words, their wording (collected from the OpenAI, Anthropic, Ollama, vLLM, llama.cpp, TGI, Azure, Mistral and Groq APIs). First match wins,
/// in the order below: a route that cannot work at all, a prompt too long for it, a content filter, a request it cannot serve, a rate
/// limit, a server fault, the request's own fault.
/// </summary>
internal static class ProviderErrorRules
{
    // The account or the route's settings: a key, a permission, a model, a deployment, credit.
    private static readonly string[] s_misconfiguredCodes =
    [
        "authentication_error", "permission_error", "not_found_error", "billing_error", "invalid_api_key", "invalid_authentication",
        "model_not_found", "deploymentnotfound", "insufficient_quota", "unsupported_country_region_territory", "account_deactivated",
    ];

    private static readonly string[] s_misconfiguredWordings = ["credit balance is too low", "exceeded your current quota"];

    private static readonly string[] s_contextCodes = ["context_length_exceeded", "exceed_context_size_error", "request_too_large"];

    private static readonly string[] s_contextWordings =
    [
        "maximum context length",              // OpenAI, vLLM, Mistral, OpenRouter: "This model's maximum context length is 8192 tokens."
        "context length exceeded",
        "prompt is too long",                  // Anthropic: "prompt is too long: 205000 tokens > 200000 maximum"
        "exceed context limit",                // Anthropic: "input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000"
        "exceeds the context window",          // OpenAI: "Your input exceeds the context window of this model."
        "input length exceeds the context length", // Ollama 0.12: "the input length exceeds the context length"
        "exceeds the available context size",  // llama.cpp server, Ollama 0.34+: "request (2622 tokens) exceeds the available context size (512 tokens)"
        "longer than the maximum model length", // vLLM: "The decoder prompt (length 5000) is longer than the maximum model length of 4096."
        "reduce the length of the messages",   // Groq, older OpenAI
        "input is too long",                   // Bedrock, Together
        "`max_new_tokens` must be <=",         // TGI: "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: …"
    ];

    private static readonly string[] s_contentFilterCodes = ["content_filter", "content_policy_violation", "responsibleaipolicyviolation"];

    private static readonly string[] s_contentFilterWordings = ["content management policy", "content_policy_violation", "rejected as a result of our safety system"];

    private static readonly string[] s_unsupportedCodes = ["unsupported_parameter", "unsupported_value", "model_not_supported"];

    private static readonly string[] s_unsupportedWordings = ["does not support"]; // Ollama: "… does not support tools"; OpenAI: "This model does not support …"

    private static readonly string[] s_rateLimitCodes = ["rate_limit_exceeded", "rate_limit_error", "ratelimitexceeded", "too_many_requests"];

    private static readonly string[] s_overloadedCodes = ["overloaded_error", "overloaded"];

    private static readonly string[] s_serverCodes = ["server_error", "api_error", "internal_error", "service_unavailable", "timeout"];

    private static readonly string[] s_requestCodes = ["invalid_request_error", "badrequesterror", "invalid_request"];

    public static FailureClassification Classify(ProviderError error, TimeSpan? retryAfter)
    {
        int? status = error.StatusCode;
        string? type = error.Type;
        string? code = error.Code;
        string? message = error.Message;

        // A status that says "the server, not the request": whatever its words, never the request's fault.
        bool serverStatus = status is >= 500;

        if (status is 401 or 402 or 403 or 404 || Any(s_misconfiguredCodes, type, code) || Mentions(message, s_misconfiguredWordings))
        {
            return Of(FailureKind.RouteMisconfigured, status ?? StatusOf(type, code) ?? 401, retryAfter);
        }

        if (!serverStatus && status is not 429 && (status is 413 || Any(s_contextCodes, type, code) || Mentions(message, s_contextWordings)))
        {
            return Of(FailureKind.ContextLengthExceeded, status ?? 400, retryAfter);
        }

        if (!serverStatus && status is not 429 && (Any(s_contentFilterCodes, type, code) || Mentions(message, s_contentFilterWordings)))
        {
            return Of(FailureKind.ContentFiltered, status ?? 400, retryAfter);
        }

        if (status is 429 or 529 || Any(s_rateLimitCodes, type, code) || Any(s_overloadedCodes, type, code) ||
            (status is 503 or null && Mentions(message, ["overloaded"])))
        {
            return Of(FailureKind.RateLimited, status ?? StatusOf(type, code) ?? 529, retryAfter);
        }

        if (!serverStatus && status is null or 400 or 422 && (Any(s_unsupportedCodes, type, code) || Mentions(message, s_unsupportedWordings)))
        {
            return Of(FailureKind.UnsupportedRequest, status ?? 400, retryAfter);
        }

        if (serverStatus || status is 408 || Any(s_serverCodes, type, code))
        {
            return Of(FailureKind.Transient, status ?? StatusOf(type, code), retryAfter);
        }

        if (status is >= 400 and < 500 || Any(s_requestCodes, type, code))
        {
            return Of(FailureKind.InvalidRequest, status ?? 400, retryAfter);
        }

        // No status and nothing recognisable (an error event saying only "something went wrong"): the route's, for now.
        return Of(FailureKind.Transient, status, retryAfter);
    }

    /// <summary>The status an error without one names by its type or code (for <see cref="ProviderErrorEvent"/>), or null.</summary>
    public static int? StatusOf(string? type, string? code) =>
        Any(["authentication_error", "invalid_api_key", "invalid_authentication"], type, code) ? 401
        : Any(["permission_error"], type, code) ? 403
        : Any(["not_found_error", "model_not_found", "deploymentnotfound"], type, code) ? 404
        : Any(["billing_error"], type, code) ? 402
        : Any(s_rateLimitCodes, type, code) || Any(["insufficient_quota"], type, code) ? 429
        : Any(s_overloadedCodes, type, code) ? 529
        : Any(s_serverCodes, type, code) ? 500
        : Any(s_contextCodes, type, code) || Any(s_contentFilterCodes, type, code) || Any(s_unsupportedCodes, type, code) || Any(s_requestCodes, type, code) ? 400
        : null;

    private static FailureClassification Of(FailureKind kind, int? status, TimeSpan? retryAfter) =>
        new(kind is FailureKind.Transient or FailureKind.RateLimited, status, retryAfter) { Kind = kind };

    private static bool Any(string[] names, string? type, string? code) => Is(names, type) || Is(names, code);

    private static bool Is(string[] names, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var name in names)
        {
            if (string.Equals(name, value, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Mentions(string? message, string[] wordings)
    {
        if (string.IsNullOrEmpty(message))
        {
            return false;
        }

        foreach (var wording in wordings)
        {
            if (message.Contains(wording, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
