using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Carries a <see cref="BudgetChatClient"/>'s budget to a router further down the pipeline (in <see cref="ChatOptions.AdditionalProperties"/>),
/// so the router reserves and settles per route attempt: with the prices of the route it actually tries.
/// </summary>
internal sealed class BudgetCall(BudgetManager manager, string? tenant, string? user)
{
    /// <summary>The key in <see cref="ChatOptions.AdditionalProperties"/>; the router removes it before options reach a provider.</summary>
    public const string Key = "InferenceRouter.Budget";

    public BudgetManager Manager { get; } = manager;

    public string? Tenant { get; } = tenant;

    public string? User { get; } = user;

    public static BudgetCall? From(ChatOptions? options) =>
        options?.AdditionalProperties is { } properties && properties.TryGetValue(Key, out var value) ? value as BudgetCall : null;

    /// <summary>Returns a copy of <paramref name="options"/> carrying this budget (the caller's options are never changed).</summary>
    public ChatOptions AttachTo(ChatOptions? options)
    {
        var copy = options?.Clone() ?? new ChatOptions();
        copy.AdditionalProperties = copy.AdditionalProperties is { } existing ? new AdditionalPropertiesDictionary(existing) : [];
        copy.AdditionalProperties[Key] = this;
        return copy;
    }
}
