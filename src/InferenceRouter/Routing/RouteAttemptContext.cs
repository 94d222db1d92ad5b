using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>What an <see cref="IRouteAttemptHook"/> sees of the attempt it is asked about.</summary>
/// <remarks>Valid during <see cref="IRouteAttemptHook.AdmitAsync"/> only; a hook that needs something later copies it.</remarks>
public readonly struct RouteAttemptContext
{
    internal RouteAttemptContext(ChatRoute route, CallContext call, IEnumerable<ChatMessage> messages, ChatOptions? options, bool streaming, long promptTokenUpperBound, PromptMedia media)
    {
        Media = media;
        Route = route;
        Call = call;
        Messages = messages;
        Options = options;
        IsStreaming = streaming;
        PromptTokenUpperBound = promptTokenUpperBound;
    }

    /// <summary>Gets the route the attempt would go to.</summary>
    public ChatRoute Route { get; }

    /// <summary>Gets the call's captured context.</summary>
    public CallContext Call { get; }

    /// <summary>Gets the call's messages.</summary>
    public IEnumerable<ChatMessage> Messages { get; }

    /// <summary>Gets the call's options as the caller sent them (with the router's entries), before the route's model id is put in.</summary>
    public ChatOptions? Options { get; }

    /// <summary>Gets a value indicating whether the call streams.</summary>
    public bool IsStreaming { get; }

    /// <summary>Gets a bound the prompt's billed input tokens cannot exceed (<see cref="TokenCounters.UpperBound"/>, counted once per call).</summary>
    public long PromptTokenUpperBound { get; }

    /// <summary>Gets the media the prompt holds, and what <see cref="PromptTokenUpperBound"/> counted for them (a budget reserves its own bound per item).</summary>
    internal PromptMedia Media { get; }
}
