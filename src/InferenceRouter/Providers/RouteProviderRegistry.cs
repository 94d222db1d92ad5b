using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace InferenceRouter;

/// <summary>
/// The providers routes can name: the built-in <c>Keyed</c>, those registered in DI (<see cref="InferenceRouterBuilder.AddProvider"/> and
/// the packages' <c>AddXxxProvider()</c>), and, unless discovery is off, the first-party providers of the packages the app references,
/// found by their well-known type names. Immutable once built; thread-safe.
/// </summary>
internal sealed class RouteProviderRegistry
{
    // The first-party providers: the names they serve, their package, its registration method and the type discovery looks for.
    private static readonly (string[] Names, string Package, string Registration)[] s_firstParty =
    [
        (["OpenAI", "AzureOpenAI", "OpenAICompatible"], "InferenceRouter.OpenAI", "AddOpenAIProvider"),
        (["Anthropic"], "InferenceRouter.Anthropic", "AddAnthropicProvider"),
        (["Ollama"], "InferenceRouter.Ollama", "AddOllamaProvider"),
    ];

    private readonly FrozenDictionary<string, RouteProvider> _byName;

    public RouteProviderRegistry(IEnumerable<RouteProvider> registered, bool discover)
    {
        var byName = new Dictionary<string, RouteProvider>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in registered.Prepend(new KeyedRouteProvider()))
        {
            foreach (var name in provider.Names)
            {
                byName.TryAdd(name, provider); // the first registration of a name wins
            }
        }

        if (discover)
        {
            foreach (var (names, _, _) in s_firstParty)
            {
                if (!names.All(byName.ContainsKey) && Discover(names[0]) is { } provider)
                {
                    foreach (var name in provider.Names)
                    {
                        byName.TryAdd(name, provider);
                    }
                }
            }
        }

        _byName = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Gets the names routes can use, sorted.</summary>
    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.OrdinalIgnoreCase);

    /// <summary>Finds the provider named <paramref name="name"/> (case-insensitive).</summary>
    public RouteProvider? Find(string? name) => name is not null && _byName.TryGetValue(name, out var provider) ? provider : null;

    /// <summary>Says that a route's provider is not available, and what to add: the first-party package that has it, or a registration.</summary>
    public string UnknownProviderMessage(string path, string? name)
    {
        foreach (var (names, package, registration) in s_firstParty)
        {
            if (names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                return $"{path}:Provider '{name}' is in the {package} package, which this app does not reference: dotnet add package {package} (in a trimmed or AOT app, also call {registration}() on the router's builder).";
            }
        }

        return $"{path}:Provider '{name}' is unknown. Available: {string.Join(", ", Names)}. The first-party providers come in packages: " +
            string.Join("; ", s_firstParty.Select(p => $"{string.Join(", ", p.Names)} in {p.Package}")) + "; register your own with AddProvider.";
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Discovery is a convenience for untrimmed apps; a trimmed app registers its providers (AddOpenAIProvider, …), and a provider trimming removed is reported as missing at startup.")]
    private static RouteProvider? Discover(string name)
    {
        // Literal names, so that the trimmer keeps a referenced provider's constructor.
        var type = name switch
        {
            "OpenAI" => Type.GetType("InferenceRouter.OpenAIRouteProvider, InferenceRouter.OpenAI", throwOnError: false),
            "Anthropic" => Type.GetType("InferenceRouter.AnthropicRouteProvider, InferenceRouter.Anthropic", throwOnError: false),
            "Ollama" => Type.GetType("InferenceRouter.OllamaRouteProvider, InferenceRouter.Ollama", throwOnError: false),
            _ => null,
        };
        return type is null ? null : Create(type);
    }

    private static RouteProvider? Create([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] Type type) =>
        typeof(RouteProvider).IsAssignableFrom(type) ? Activator.CreateInstance(type) as RouteProvider : null;
}
