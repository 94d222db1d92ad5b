namespace InferenceRouter;

/// <summary>
/// Hands a <see cref="BudgetChatClient"/>'s budget to the router further down the pipeline, so the router reserves and settles per
/// route attempt with the prices of the route it actually tries.
/// </summary>
/// <remarks>
/// It travels in an <see cref="AsyncLocal{T}"/> rather than in the options, so the caller's options are not copied for it and can
/// never reach a provider with it. Only the router it is addressed to reads it: another router (a tool calling another pipeline)
/// is never charged to this call, and every call the pipeline makes to its router on this flow (a tool-calling loop) is charged.
/// </remarks>
internal sealed class BudgetCall(BudgetManager manager, RouterChatClient router, string? tenant, string? user)
{
    private static readonly AsyncLocal<BudgetCall?> s_current = new();

    public BudgetManager Manager { get; } = manager;

    public string? Tenant { get; } = tenant;

    public string? User { get; } = user;

    /// <summary>Makes <paramref name="call"/> the one the next router call on this flow takes; returns what it replaces, to restore.</summary>
    public static BudgetCall? Enter(BudgetCall call)
    {
        var previous = s_current.Value;
        s_current.Value = call;
        return previous;
    }

    /// <summary>Restores what <see cref="Enter"/> replaced.</summary>
    public static void Exit(BudgetCall? previous)
    {
        if (!ReferenceEquals(s_current.Value, previous))
        {
            s_current.Value = previous;
        }
    }

    /// <summary>Gets the budget addressed to <paramref name="router"/> on this flow, if any.</summary>
    public static BudgetCall? For(RouterChatClient router) =>
        s_current.Value is { } call && ReferenceEquals(call._router, router) ? call : null;

    private readonly RouterChatClient _router = router;
}
