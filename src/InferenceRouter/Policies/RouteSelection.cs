using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>The candidates for one call, as policies see them: the request, each route, whether it is excluded and its score.</summary>
/// <remarks>
/// The router reuses instances from a pool: a policy must not keep a reference after <see cref="IRoutingPolicy.Apply"/> returns.
/// Not thread-safe; one call's policies run one after another.
/// </remarks>
public sealed class RouteSelection
{
    private readonly ChatRoute[] _routes;
    private readonly double[] _scores;
    private readonly string?[] _exclusions;
    private readonly int[] _order;
    private const int CharactersPerToken = 4; // English text in BPE vocabularies: for ranking, never for limits
    private readonly ITokenCounter?[] _counters = new ITokenCounter?[2];
    private readonly long[] _counts = new long[2];
    private readonly PromptMedia[] _media = new PromptMedia[2]; // the media each count met (the selection is pooled: allocated once)
    private List<PolicyVerdict>? _verdicts;
    private int _orderCount;
    private int _promptCharacters = -1;
    private int _messageCount;
    private int _imageCount;
    private bool _otherContent;
    private RouteCapabilities? _implied;

    internal RouteSelection(ChatRoute[] routes)
    {
        _routes = routes;
        _scores = new double[routes.Length];
        _exclusions = new string?[routes.Length];
        _order = new int[routes.Length];
        Messages = [];
        Hints = RoutingHints.None;
    }

    /// <summary>Gets every route of the router, in registration order; indexes match the other members.</summary>
    public IReadOnlyList<ChatRoute> Routes => _routes;

    /// <summary>Gets the number of routes.</summary>
    public int Count => _routes.Length;

    /// <summary>Gets the request's messages.</summary>
    public IEnumerable<ChatMessage> Messages { get; private set; }

    /// <summary>Gets the request's options.</summary>
    public ChatOptions? Options { get; private set; }

    /// <summary>Gets the call's hints (per call and ambient, combined).</summary>
    public RoutingHints Hints { get; private set; }

    /// <summary>Gets a value indicating whether the call streams.</summary>
    public bool IsStreaming { get; private set; }

    /// <summary>
    /// Gets a value indicating whether the selection answers a question and no call follows it — <see cref="RouterChatClient.Explain"/>,
    /// or a route preview (<see cref="IRoutePreview"/>, which the semantic cache asks before serving a stored answer). A policy then
    /// changes no state of its own (no round-robin step, no probe claimed) and may describe its verdicts in detail.
    /// </summary>
    public bool IsExplaining { get; private set; }

    /// <summary>Gets the capabilities the request needs: those its content implies (tools, images, JSON schema, streaming) and those the hints require.</summary>
    public RouteCapabilities RequiredCapabilities => Hints.RequiredCapabilities | (_implied ??= ImpliedCapabilities());

    /// <summary>Gets the number of characters of text in the request.</summary>
    public int PromptCharacters
    {
        get
        {
            if (_promptCharacters < 0)
            {
                MeasurePrompt();
            }

            return _promptCharacters;
        }
    }

    /// <summary>Gets a cheap estimate of the prompt's tokens (one per four characters, plus framing and images); good for ranking, not for limits.</summary>
    public int EstimatedPromptTokens
    {
        get
        {
            int chars = PromptCharacters;
            return (chars / CharactersPerToken) + PromptTokens.ReplyPrimingTokens + (_messageCount * PromptTokens.TokensPerMessage) + (_imageCount * PromptTokens.TokensPerImage);
        }
    }

    /// <summary>
    /// Gets a bound the prompt's token count cannot exceed for any byte-level tokenizer (three per character, plus framing and images),
    /// or <see cref="long.MaxValue"/> when the request holds what only counting can bound (tools, function calls and results, data, a schema).
    /// </summary>
    public long PromptTokenUpperBound
    {
        get
        {
            int chars = PromptCharacters;
            if (_otherContent || Options is { Tools.Count: > 0 } or { ResponseFormat: ChatResponseFormatJson { Schema: not null } })
            {
                return long.MaxValue;
            }

            return (3L * (chars + (Options?.Instructions?.Length ?? 0))) + PromptTokens.ReplyPrimingTokens + PromptTokens.TokensPerMessage +
                (_messageCount * PromptTokens.TokensPerMessage) + (_imageCount * (long)PromptTokens.TokensPerImage);
        }
    }

    /// <summary>Returns whether candidate <paramref name="index"/> has been excluded.</summary>
    /// <param name="index">The route's index in <see cref="Routes"/>.</param>
    /// <returns><see langword="true"/> when excluded.</returns>
    public bool IsExcluded(int index) => _exclusions[index] is not null;

    /// <summary>Returns why candidate <paramref name="index"/> was excluded, or <see langword="null"/>.</summary>
    /// <param name="index">The route's index.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    public string? GetExclusionReason(int index) => _exclusions[index];

    /// <summary>Excludes candidate <paramref name="index"/>; the first reason given is kept.</summary>
    /// <param name="index">The route's index.</param>
    /// <param name="policy">The policy excluding it.</param>
    /// <param name="reason">Why, in a few words (prefer constant strings: this runs on every call).</param>
    public void Exclude(int index, IRoutingPolicy policy, string reason)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        _exclusions[index] ??= reason;
        _verdicts?.Add(new PolicyVerdict(_routes[index].Name, policy.Name, "excluded: " + reason, null));
    }

    /// <summary>Gets candidate <paramref name="index"/>'s score (lower is better; 0 until a ranker sets it).</summary>
    /// <param name="index">The route's index.</param>
    /// <returns>The score.</returns>
    public double GetScore(int index) => _scores[index];

    /// <summary>Sets candidate <paramref name="index"/>'s score (lower is better).</summary>
    /// <param name="index">The route's index.</param>
    /// <param name="policy">The ranking policy.</param>
    /// <param name="score">The score; NaN is not allowed.</param>
    public void SetScore(int index, IRoutingPolicy policy, double score)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (double.IsNaN(score))
        {
            throw new ArgumentException($"Policy '{policy.Name}' gave route '{_routes[index].Name}' a NaN score; scores must be numbers (lower is better).", nameof(score));
        }

        _scores[index] = score;
        _verdicts?.Add(new PolicyVerdict(_routes[index].Name, policy.Name, "score", score));
    }

    /// <summary>Sets candidate <paramref name="index"/>'s score and, when explaining, why.</summary>
    /// <param name="index">The route's index.</param>
    /// <param name="policy">The ranking policy.</param>
    /// <param name="score">The score; NaN is not allowed.</param>
    /// <param name="reason">Why, shown by <see cref="RouterChatClient.Explain"/> (build it only when <see cref="IsExplaining"/>: this runs on every call).</param>
    public void SetScore(int index, IRoutingPolicy policy, double score, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        SetScore(index, policy, score);
        if (_verdicts is not null)
        {
            _verdicts[^1] = _verdicts[^1] with { Verdict = reason };
        }
    }

    /// <summary>Counts every input token the provider bills (<see cref="PromptTokens.Count"/>) with the route's tokenizer (cached per tokenizer for this call).</summary>
    /// <param name="route">The route whose tokenizer to use.</param>
    /// <returns>The input tokens: exact for the route's tokenizer, or an upper bound.</returns>
    public long CountPromptTokens(ChatRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return CountPromptTokens(route.TokenCounter);
    }

    /// <summary>Counts every input token the provider bills with <paramref name="counter"/> (cached per counter for this call).</summary>
    /// <param name="counter">The counter, e.g. <see cref="TokenCounters.UpperBound"/>.</param>
    /// <returns>The input tokens.</returns>
    public long CountPromptTokens(ITokenCounter counter)
    {
        ArgumentNullException.ThrowIfNull(counter);
        return CountPromptTokens(counter, out _);
    }

    /// <summary>Counts as <see cref="CountPromptTokens(ITokenCounter)"/> does, and says which media the prompt holds (cached with the count).</summary>
    internal long CountPromptTokens(ITokenCounter counter, out PromptMedia media)
    {
        for (int i = 0; i < _counters.Length; i++)
        {
            if (ReferenceEquals(_counters[i], counter))
            {
                media = _media[i];
                return _counts[i];
            }

            if (_counters[i] is null)
            {
                _media[i] = default;
                _counts[i] = PromptTokens.CountWithMedia(counter, Messages, Options, ref _media[i]);
                _counters[i] = counter;
                media = _media[i];
                return _counts[i];
            }
        }

        media = default;
        return PromptTokens.CountWithMedia(counter, Messages, Options, ref media);
    }

    /// <summary>Gets the output tokens the call may produce on <paramref name="route"/>: the request's limit, else the route's, else null.</summary>
    /// <param name="route">The route.</param>
    /// <returns>The output limit, or <see langword="null"/> when neither sets one.</returns>
    public int? GetMaxOutputTokens(ChatRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        int? requested = Options?.MaxOutputTokens;
        int? limit = route.Descriptor.MaxOutputTokens;
        return requested is null ? limit : limit is null ? requested : Math.Min(requested.Value, limit.Value);
    }

    internal int OrderedCount => _orderCount;

    /// <summary>Gets the routes the router skipped for their health (Retry-After, open or drained circuit), for the call's <see cref="RoutingInfo"/>.</summary>
    internal List<RouteExclusion>? Skipped { get; private set; }

    internal void NoteSkipped(int index, string reason) => (Skipped ??= []).Add(new RouteExclusion(_routes[index].Name, reason));

    /// <summary>Gets or sets a value indicating whether local routes were put first because the app looked offline.</summary>
    internal bool PlacedOffline { get; set; }

    /// <summary>Gets or sets the route this call probes (re-measures although it looks slow), or -1.</summary>
    internal int ProbeIndex { get; set; } = -1;

    /// <summary>Counts the attempts started on every route (for probe pacing).</summary>
    internal long CountAllAttempts()
    {
        long attempts = 0;
        foreach (var route in _routes)
        {
            attempts += route.Health.Attempts;
        }

        return attempts;
    }

    internal ChatRoute GetOrdered(int position) => _routes[_order[position]];

    internal List<PolicyVerdict>? Verdicts => _verdicts;

    internal void Reset(IEnumerable<ChatMessage> messages, ChatOptions? options, RoutingHints hints, bool streaming, bool explain, bool question = false)
    {
        Messages = messages;
        Options = options;
        Hints = hints;
        IsStreaming = streaming;
        Array.Clear(_scores);
        Array.Clear(_exclusions);
        Array.Clear(_counters);
        _orderCount = 0;
        PlacedOffline = false;
        ProbeIndex = -1;
        Skipped = null;
        _promptCharacters = -1;
        _otherContent = false;
        _implied = null;
        _verdicts = explain ? [] : null;
        IsExplaining = explain || question;
    }

    internal void Clear() => Reset([], null, RoutingHints.None, streaming: false, explain: false);

    /// <summary>Orders the candidates left: local routes last or first when asked, then by score, then by registration (a stable insertion sort; route counts are small).</summary>
    internal void Order(LocalPlacement placement)
    {
        int count = 0;
        for (int i = 0; i < _routes.Length; i++)
        {
            if (_exclusions[i] is not null)
            {
                continue;
            }

            int j = count++;
            while (j > 0 && Precedes(i, _order[j - 1], placement))
            {
                _order[j] = _order[j - 1];
                j--;
            }

            _order[j] = i;
        }

        _orderCount = count;
    }

    private bool Precedes(int a, int b, LocalPlacement placement)
    {
        if (placement != LocalPlacement.ByScore)
        {
            bool localA = _routes[a].Descriptor.IsLocal;
            if (localA != _routes[b].Descriptor.IsLocal)
            {
                return localA == (placement == LocalPlacement.First);
            }
        }

        return _scores[a] < _scores[b];
    }

    private void MeasurePrompt()
    {
        int chars = 0, messages = 0, images = 0;
        bool other = false;
        if (Messages is IList<ChatMessage> list)
        {
            // Indexing avoids boxing an enumerator on every call.
            for (int i = 0; i < list.Count; i++)
            {
                Measure(list[i], ref chars, ref images, ref other);
            }

            messages = list.Count;
        }
        else
        {
            foreach (var message in Messages)
            {
                Measure(message, ref chars, ref images, ref other);
                messages++;
            }
        }

        _otherContent = other;
        _promptCharacters = chars;
        _messageCount = messages;
        _imageCount = images;
    }

    private static void Measure(ChatMessage message, ref int chars, ref int images, ref bool other)
    {
        var contents = message.Contents;
        for (int i = 0; i < contents.Count; i++)
        {
            switch (contents[i])
            {
                case TextContent text:
                    chars += text.Text.Length;
                    break;
                case TextReasoningContent reasoning:
                    chars += reasoning.Text.Length;
                    break;
                case DataContent data when data.HasTopLevelMediaType("image"):
                case UriContent uri when uri.HasTopLevelMediaType("image"):
                    images++;
                    break;
                default:
                    other = true;
                    break;
            }
        }
    }

    private RouteCapabilities ImpliedCapabilities()
    {
        var implied = IsStreaming ? RouteCapabilities.Streaming : RouteCapabilities.None;
        if (Options is { } options)
        {
            if (options.Tools is { Count: > 0 })
            {
                implied |= RouteCapabilities.Tools;
            }

            if (options.ResponseFormat is ChatResponseFormatJson { Schema: not null })
            {
                implied |= RouteCapabilities.JsonSchema;
            }

            // Effort None asks for no reasoning, which every model gives; any other effort is a parameter only reasoning models accept.
            if (options.Reasoning is { Effort: { } effort } && effort != ReasoningEffort.None)
            {
                implied |= RouteCapabilities.Reasoning;
            }
        }

        _ = PromptCharacters;
        if (_imageCount > 0)
        {
            implied |= RouteCapabilities.Images;
        }

        return implied;
    }
}
