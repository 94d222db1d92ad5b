using Microsoft.Extensions.AI;
using Polly;

namespace InferenceRouter;

/// <summary>A named target the router can send a call to: a provider's <see cref="IChatClient"/> and its <see cref="RouteDescriptor"/>.</summary>
/// <remarks>A route belongs to one router, which gives it its health tracker and circuit breaker and disposes its client.</remarks>
public sealed class ChatRoute
{
    private RouteHealth? _health;
    private ITokenCounter? _tokenCounter;

    /// <summary>Creates a route; what <paramref name="descriptor"/> leaves unknown comes from the shipped catalog (<see cref="ModelCatalog.Default"/>).</summary>
    /// <param name="descriptor">What the router must know about the route.</param>
    /// <param name="client">The client that serves it.</param>
    /// <exception cref="ArgumentException">A descriptor value is out of range.</exception>
    public ChatRoute(RouteDescriptor descriptor, IChatClient client)
        : this(descriptor, client, ModelCatalog.Default)
    {
    }

    /// <summary>
    /// Creates a route; what <paramref name="descriptor"/> leaves unknown (prices, context window, output limit, capabilities) comes from
    /// <paramref name="catalog"/>'s entry for its model (<see cref="ModelCatalog.Complete"/>). Pass <see cref="ModelCatalog.Empty"/> to take
    /// nothing from a catalog.
    /// </summary>
    /// <param name="descriptor">What the router must know about the route.</param>
    /// <param name="client">The client that serves it.</param>
    /// <param name="catalog">The model catalog.</param>
    /// <exception cref="ArgumentException">A descriptor value is out of range.</exception>
    public ChatRoute(RouteDescriptor descriptor, IChatClient client, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(catalog);
        OptionsValidation.ThrowIfInvalid(descriptor.GetValidationErrors(), nameof(descriptor));
        Declared = descriptor;
        Descriptor = catalog.Complete(descriptor);
        Catalog = catalog;
        Client = client;
        ProviderFailures = client.GetService<IProviderFailureClassifier>();
        RequiresStreamEnd = descriptor.RequireFinishReason ?? ProviderFailures?.ReportsStreamEnd ?? false;
    }

    /// <summary>Gets the route's name.</summary>
    public string Name => Descriptor.Name;

    /// <summary>Gets what the router knows about the route: the descriptor it was created with, completed from the model catalog.</summary>
    public RouteDescriptor Descriptor { get; }

    /// <summary>Gets the descriptor as the route was created with it, before the catalog filled anything in.</summary>
    internal RouteDescriptor Declared { get; }

    /// <summary>Gets the catalog the route was completed from (its currency prices the route's calls).</summary>
    internal ModelCatalog Catalog { get; }

    /// <summary>Gets the client that serves the route.</summary>
    public IChatClient Client { get; }

    /// <summary>Gets the route's passive health statistics.</summary>
    /// <exception cref="InvalidOperationException">The route has not been given to a router yet.</exception>
    public RouteHealth Health => _health ?? throw new InvalidOperationException($"Route '{Name}' has no health yet: pass it to a RouterChatClient first.");

    /// <summary>Gets the tokenizer that counts this route's prompt tokens.</summary>
    public ITokenCounter TokenCounter => _tokenCounter ??= Descriptor.TokenCounter ?? TokenCounters.UpperBound;

    /// <summary>Gets the failure rules of the route's provider SDK, as its client exposes them; null when it exposes none.</summary>
    internal IProviderFailureClassifier? ProviderFailures { get; }

    internal ResiliencePipeline Pipeline { get; private set; } = ResiliencePipeline.Empty;

    /// <summary>
    /// Gets how the route's calls are priced: its own pricing (declared, else its catalog's), free when local; null when none is known
    /// (then a call's cost is not reported).
    /// </summary>
    internal RoutePrice? Price => (_price ??= CreatePrice()).Pricing is null ? null : _price;

    private RoutePrice? _price;

    private RoutePrice CreatePrice()
    {
        var d = Descriptor;
        var pricing = d.Pricing ?? (d.IsLocal ? RoutePricing.Free : null);
        return new RoutePrice(d.Name, d.ModelId, pricing, TokenCounter);
    }

    internal string ProviderName { get; private set; } = "unknown";

    /// <summary>Gets a value indicating whether a stream that ends without the provider saying it is complete is a failure (<see cref="RouteDescriptor.RequireFinishReason"/>).</summary>
    internal bool RequiresStreamEnd { get; }

    /// <summary>Whether a streamed update is the provider saying the answer is complete, by its SDK's rules when the client exposes them.</summary>
    internal bool IsStreamEnd(ChatResponseUpdate update) => update.FinishReason is not null || (ProviderFailures?.IsStreamEnd(update) ?? false);

    /// <summary>Reads the error the provider put where an answer should be, by its SDK's rules when the client exposes them, else as JSON.</summary>
    internal bool TryReadErrorEvent(object? raw, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProviderError? error) =>
        ProviderFailures?.TryReadErrorEvent(raw, out error) ?? ProviderErrorEvent.TryRead(raw, out error);

    /// <summary>
    /// Gets the share of the route's quota left now, from 0 (full) to 1 (unused): the tightest of its requests, tokens and concurrency,
    /// declared (<see cref="RouteDescriptor.Quota"/>) or learned from its provider's headers; 1 for a route with no quota. The
    /// <c>most-headroom</c> ranker orders by it; other rankers (a custom <see cref="IRoutingPolicy"/>) can break ties with it.
    /// </summary>
    public double QuotaHeadroom => Quota?.Headroom ?? 1;

    /// <summary>Gets the route's quota as the router keeps it, or null when the route has none (the quota hook then admits at once).</summary>
    internal RouteQuotaState? Quota { get; private set; }

    internal void Attach(RouteHealth health, ResiliencePipeline pipeline, TimeProvider time)
    {
        if (Interlocked.CompareExchange(ref _health, health, null) is not null)
        {
            throw new InvalidOperationException($"Route '{Name}' already belongs to a router; create a new ChatRoute for each router.");
        }

        Pipeline = pipeline;
        // A declared quota, or one learned from the provider's headers when its client publishes them (ProviderRateLimits).
        var rateLimits = Client.GetService<ProviderRateLimits>();
        Quota = Descriptor.Quota is { IsLimited: true } || rateLimits is not null ? new RouteQuotaState(Name, Descriptor.Quota ?? new RouteQuota(), time) : null;
        rateLimits?.Subscribe(Quota!.Learn);
        ProviderName = Descriptor.Provider ?? Client.GetService<ChatClientMetadata>()?.ProviderName ?? "unknown";
    }

    /// <inheritdoc/>
    public override string ToString() => Descriptor.ToString();
}
