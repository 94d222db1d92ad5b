using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// Everything that steers one call — route or policy, tenant, user, on-device, tags, limits, the quality prediction, the per-attempt
/// hooks of the layers above the router — captured once, when the call is made, and carried with it through every layer.
/// </summary>
/// <remarks>
/// <para>Immutable. The first layer that sees a call (the cache, budgets, quality routing or the router itself) captures it with
/// <see cref="Capture"/>: the ambient <see cref="RoutingScope"/> as it is at that moment, combined with the call's own
/// <see cref="RoutingHints"/>. From then on no layer reads the scope again, so a stream enumerated after its scope ended (an endpoint
/// returning <see cref="IAsyncEnumerable{T}"/>) is still routed, cached and charged as the call was made.</para>
/// <para>Layers hand it down in the call's <see cref="ChatOptions"/> (<see cref="AttachTo"/>, a copy that carries it; the caller's options
/// are never changed; middleware that clones the copy keeps it) and the router removes it before a provider sees the options. Hints a layer adds to options after the capture combine on
/// top of it, as per-call hints always do.</para>
/// </remarks>
public sealed class CallContext
{
    /// <summary>
    /// The <see cref="ChatOptions.AdditionalProperties"/> key a captured context travels under when the call's options are of a type derived
    /// from <see cref="ChatOptions"/> (plain options carry it in a field of their copy, with no dictionary copied).
    /// </summary>
    public const string OptionsKey = "InferenceRouter.CallContext";

    private static readonly IRouteAttemptHook[] s_noHooks = [];

    private readonly IRouteAttemptHook[] _hooks;

    private CallContext(RoutingHints hints, IRouteAttemptHook[] hooks)
    {
        Hints = hints;
        _hooks = hooks;
    }

    /// <summary>Gets a context that steers nothing.</summary>
    public static CallContext None { get; } = new(RoutingHints.None, s_noHooks);

    /// <summary>Gets the call's hints: the ambient scope's at capture time combined with the call's own.</summary>
    public RoutingHints Hints { get; }

    /// <summary>Gets the tenant the call is made for, or null.</summary>
    public string? Tenant => Hints.Tenant;

    /// <summary>Gets the end user the call is made for, or null.</summary>
    public string? User => Hints.User;

    /// <summary>Gets a value indicating whether the call must stay on this device (<see cref="ChatOptionsRoutingExtensions.KeepOnDevice"/>).</summary>
    public bool KeepOnDevice => Hints.LocalOnly;

    /// <summary>Gets the per-attempt hooks layers above the router added for this call (a budget's reservation, for example), in the order they run.</summary>
    public IReadOnlyList<IRouteAttemptHook> AttemptHooks => _hooks;

    internal IRouteAttemptHook[] HookArray => _hooks;

    /// <summary>
    /// Captures the context of a call: the one <paramref name="options"/> already carry (combined with hints added to them since), else
    /// the ambient <see cref="RoutingScope"/> now combined with the call's hints.
    /// </summary>
    /// <param name="options">The call's options; may be null.</param>
    /// <returns>The context.</returns>
    public static CallContext Capture(ChatOptions? options)
    {
        var properties = options?.AdditionalProperties;
        if (options is ContextChatOptions carrying)
        {
            var added = properties?.TryGetValue(ChatOptionsRoutingExtensions.HintsKey, out var more) is true ? more as RoutingHints : null;
            return added is null ? carrying.Context : carrying.Context.WithHints(RoutingHints.Combine(carrying.Context.Hints, added));
        }

        if (properties is null || properties.Count == 0)
        {
            return RoutingScope.Current is { } ambient ? new CallContext(ambient, s_noHooks) : None;
        }

        var hints = properties.TryGetValue(ChatOptionsRoutingExtensions.HintsKey, out var value) ? value as RoutingHints : null;
        if (properties.TryGetValue(OptionsKey, out var captured) && captured is CallContext context)
        {
            return hints is null ? context : context.WithHints(RoutingHints.Combine(context.Hints, hints));
        }

        var combined = RoutingHints.Combine(RoutingScope.Current, hints);
        return ReferenceEquals(combined, RoutingHints.None) ? None : new CallContext(combined, s_noHooks);
    }

    /// <summary>Returns a context with <paramref name="hints"/> in place of <see cref="Hints"/> (same hooks).</summary>
    /// <param name="hints">The new hints.</param>
    /// <returns>The new context.</returns>
    public CallContext WithHints(RoutingHints hints)
    {
        ArgumentNullException.ThrowIfNull(hints);
        return ReferenceEquals(hints, Hints) ? this : new CallContext(hints, _hooks);
    }

    /// <summary>Returns a context whose attempts also run <paramref name="hook"/>, after the hooks already there.</summary>
    /// <param name="hook">The hook.</param>
    /// <returns>The new context.</returns>
    public CallContext WithAttemptHook(IRouteAttemptHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return new CallContext(Hints, [.. _hooks, hook]);
    }

    /// <summary>
    /// Returns a copy of <paramref name="options"/> that carries this context (and no loose <see cref="RoutingHints"/>: they are in it),
    /// for the layer below. The caller's options are never changed.
    /// </summary>
    /// <param name="options">The call's options; may be null.</param>
    /// <returns>The copy.</returns>
    public ChatOptions AttachTo(ChatOptions? options)
    {
        if (options is null)
        {
            return new ContextChatOptions(this);
        }

        if (ProviderOptions.IsPlain(options))
        {
            // The common case: the context rides in a field of the copy, and the dictionary is copied only if it holds more than hints.
            return ProviderOptions.CopySettings(options, new ContextChatOptions(this));
        }

        // A derived options type (an app's or a provider's): its own Clone keeps its state, and the context travels in the dictionary.
        var copy = options.Clone();
        if (ReferenceEquals(copy.AdditionalProperties, options.AdditionalProperties))
        {
            copy.AdditionalProperties = options.AdditionalProperties?.Clone(); // never change the caller's dictionary
        }

        var properties = copy.AdditionalProperties ??= [];
        properties.Remove(ChatOptionsRoutingExtensions.HintsKey);
        properties[OptionsKey] = this;
        return copy;
    }

    /// <summary>
    /// The options a layer hands the layer below: unchanged when they already carry exactly this context; otherwise a copy carrying it —
    /// even when nothing steers the call, so that no layer below reads a scope opened in between (by middleware) or after (a stream read later).
    /// </summary>
    internal ChatOptions PassDown(ChatOptions? options)
    {
        var properties = options?.AdditionalProperties;
        bool carries = options is ContextChatOptions carrying
            ? ReferenceEquals(carrying.Context, this)
            : properties is not null && properties.TryGetValue(OptionsKey, out var carried) && ReferenceEquals(carried, this);
        if (carries && properties?.ContainsKey(ChatOptionsRoutingExtensions.HintsKey) is not true)
        {
            return options!;
        }

        return AttachTo(options);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Hints}{(_hooks.Length > 0 ? $", {_hooks.Length} attempt hook(s)" : string.Empty)}";
}
