using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>What an <see cref="IRouteAttemptHook"/> sees of the attempt it is asked about.</summary>
/// <remarks>Valid during <see cref="IRouteAttemptHook.AdmitAsync"/> only; a hook that needs something later copies it.</remarks>
public readonly struct RouteAttemptContext
{
    // The call's selection holds its messages, options and streaming flag, and caches the prompt's count: one reference here instead
    // of four values keeps the router's attempt state (an async state machine) from growing.
    private readonly RouteSelection _selection;

    internal RouteAttemptContext(ChatRoute route, CallContext call, RouteSelection selection, long promptTokenUpperBound)
    {
        Route = route;
        Call = call;
        _selection = selection;
        PromptTokenUpperBound = promptTokenUpperBound;
    }

    /// <summary>Gets the route the attempt would go to.</summary>
    public ChatRoute Route { get; }

    /// <summary>Gets the call's captured context.</summary>
    public CallContext Call { get; }

    /// <summary>Gets the call's messages.</summary>
    public IEnumerable<ChatMessage> Messages => _selection.Messages;

    /// <summary>Gets the call's options as the caller sent them (with the router's entries), before the route's model id is put in.</summary>
    public ChatOptions? Options => _selection.Options;

    /// <summary>Gets a value indicating whether the call streams.</summary>
    public bool IsStreaming => _selection.IsStreaming;

    /// <summary>Gets a bound the prompt's billed input tokens cannot exceed (<see cref="TokenCounters.UpperBound"/>, counted once per call).</summary>
    public long PromptTokenUpperBound { get; }

    /// <summary>Gets the media the prompt holds, and what <see cref="PromptTokenUpperBound"/> counted for them (a budget reserves its own bound per item).</summary>
    internal PromptMedia Media
    {
        get
        {
            _selection.CountPromptTokens(TokenCounters.UpperBound, out var media); // cached: the bound above was counted by the same walk
            return media;
        }
    }
}
