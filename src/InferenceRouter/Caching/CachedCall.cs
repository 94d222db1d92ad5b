using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// One call through the cache: its cache control, its options without it, its captured <see cref="CallContext"/>, and — asked at most
/// once — the route preview that decides whether a stored answer is what the call would get now.
/// </summary>
internal sealed class CachedCall
{
    private readonly IRoutePreview? _preview;
    private readonly bool _streaming;
    private RoutePreview? _result;
    private ChatOptions? _below;
    private CallContext? _belowContext;

    public CachedCall(IRoutePreview? preview, IEnumerable<ChatMessage> messages, ChatOptions? options, bool streaming)
    {
        _preview = preview;
        _streaming = streaming;
        Messages = messages;
        Control = options.GetCacheControl();
        Options = WithoutControl(options);
        Context = CallContext.Capture(Options);
    }

    public IEnumerable<ChatMessage> Messages { get; }

    public CacheControl Control { get; }

    /// <summary>Gets the caller's options without the cache control.</summary>
    public ChatOptions? Options { get; }

    /// <summary>Gets the call's context: captured when the call was made, completed by the preview (the quality prediction) once asked.</summary>
    public CallContext Context { get; private set; }

    /// <summary>Gets the options for the layer below: they carry the context, so it is neither read again from the scope nor computed again.</summary>
    public ChatOptions? OptionsBelow
    {
        get
        {
            if (!ReferenceEquals(_belowContext, Context))
            {
                _below = Context.PassDown(Options);
                _belowContext = Context;
            }

            return _below;
        }
    }

    /// <summary>
    /// Whether a stored answer is what the call would get now: the route that answered (or one serving the same model) is the call's first
    /// candidate, by the same selection the call runs (<see cref="IRoutePreview"/>, quality prediction included). An answer from a route
    /// that has since lost its place (a failover or offline answer, a recovered primary, a prompt now predicted to need another tier) is not served.
    /// </summary>
    public async ValueTask<bool> ServesNowAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        if (_preview is null || entry.Route is null)
        {
            return true;
        }

        if (_result is null)
        {
            _result = await _preview.PreviewAsync(Messages, OptionsBelow, _streaming, cancellationToken).ConfigureAwait(false);
            Context = _result.Context;
        }

        var first = _result.FirstRoute;
        return first is not null && (string.Equals(first.Name, entry.Route, StringComparison.OrdinalIgnoreCase) ||
            (entry.RouteModelId is not null && string.Equals(first.Descriptor.ModelId, entry.RouteModelId, StringComparison.OrdinalIgnoreCase)));
    }

    private static ChatOptions? WithoutControl(ChatOptions? options)
    {
        if (options?.AdditionalProperties?.ContainsKey(ChatOptionsCacheExtensions.CacheControlKey) != true)
        {
            return options;
        }

        var copy = options.Clone();
        if (ReferenceEquals(copy.AdditionalProperties, options.AdditionalProperties))
        {
            copy.AdditionalProperties = options.AdditionalProperties.Clone(); // never change the caller's dictionary
        }

        copy.AdditionalProperties!.Remove(ChatOptionsCacheExtensions.CacheControlKey);
        return copy;
    }
}
