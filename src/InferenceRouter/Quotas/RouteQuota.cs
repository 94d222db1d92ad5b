namespace InferenceRouter;

/// <summary>
/// What a route's provider account allows: requests and tokens per minute and calls at once, as the provider states them (an OpenAI tier,
/// an Azure OpenAI deployment's TPM, an Anthropic model's limits). The router admits a call to the route only when it fits, so traffic
/// spreads to other routes before the provider answers 429.
/// </summary>
/// <remarks>
/// <para>Per-minute limits are kept as the providers keep theirs: a bucket that holds one minute's worth and refills continuously (a
/// route with 60 requests per minute takes a burst of 60, then one a second). A call's tokens are its prompt's upper bound
/// (<see cref="RouteAttemptContext.PromptTokenUpperBound"/>) plus its output limit (the request's, else the route's
/// <see cref="RouteDescriptor.MaxOutputTokens"/>; none when neither is set), trued up with the usage the provider reports after the call.</para>
/// <para>Bound from configuration under <c>InferenceRouter:Routes:N:Quota</c>; set a property in code with an object initializer.</para>
/// </remarks>
public sealed class RouteQuota
{
    /// <summary>Gets or sets the requests the route takes per minute, or null for no request limit.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Gets or sets the tokens (input plus output) the route takes per minute, or null for no token limit.</summary>
    public int? TokensPerMinute { get; set; }

    /// <summary>Gets or sets how many calls may be in flight on the route at once (a stream counts until it ends), or null for no limit.</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>Gets a value indicating whether any limit is set.</summary>
    public bool IsLimited => RequestsPerMinute is not null || TokensPerMinute is not null || MaxConcurrency is not null;

    /// <summary>Validates the quota; each message names the key and the fix.</summary>
    /// <param name="route">The route's name, for the messages.</param>
    /// <returns>The errors; none when valid.</returns>
    internal IEnumerable<string> GetValidationErrors(string route)
    {
        if (RequestsPerMinute is <= 0)
        {
            yield return $"Route '{route}' has Quota:RequestsPerMinute {RequestsPerMinute}; give the requests the provider allows per minute (1 or more), or leave it unset.";
        }

        if (TokensPerMinute is <= 0)
        {
            yield return $"Route '{route}' has Quota:TokensPerMinute {TokensPerMinute}; give the tokens the provider allows per minute (1 or more, e.g. 240000 for a 240k TPM deployment), or leave it unset.";
        }

        if (MaxConcurrency is <= 0)
        {
            yield return $"Route '{route}' has Quota:MaxConcurrency {MaxConcurrency}; give how many calls may run at once (1 or more), or leave it unset.";
        }
    }

    /// <summary>A copy, so that the quota a router holds cannot change under it.</summary>
    internal RouteQuota Copy() => new() { RequestsPerMinute = RequestsPerMinute, TokensPerMinute = TokensPerMinute, MaxConcurrency = MaxConcurrency };

    /// <inheritdoc/>
    public override string ToString() =>
        string.Join(", ", new[]
        {
            RequestsPerMinute is { } rpm ? $"{rpm} requests/min" : null,
            TokensPerMinute is { } tpm ? $"{tpm} tokens/min" : null,
            MaxConcurrency is { } max ? $"{max} at once" : null,
        }.Where(part => part is not null));
}
