using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// The options one layer hands the layer below: the caller's settings plus the call's captured <see cref="CallContext"/>, held in a field
/// rather than in <see cref="ChatOptions.AdditionalProperties"/>, so handing a context down copies no dictionary.
/// </summary>
/// <remarks>
/// Layers create it (<see cref="CallContext.AttachTo"/>) and read it (<see cref="CallContext.Capture"/>); the router gives providers plain
/// <see cref="ChatOptions"/> without it. Middleware between layers that clones the options (<see cref="Clone"/>, as M.E.AI's do) keeps the
/// context; the caller's own options are never this type.
/// </remarks>
internal sealed class ContextChatOptions : ChatOptions
{
    public ContextChatOptions(CallContext context) => Context = context;

    private ContextChatOptions(ContextChatOptions other)
        : base(other) => Context = other.Context;

    /// <summary>Gets the context the call was captured with.</summary>
    public CallContext Context { get; }

    /// <inheritdoc/>
    public override ChatOptions Clone() => new ContextChatOptions(this);
}
