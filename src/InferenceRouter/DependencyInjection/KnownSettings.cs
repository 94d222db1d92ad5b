using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace InferenceRouter;

/// <summary>
/// The keys the router's configuration section may hold, derived from the options types that bind it (their bindable properties,
/// recursively, through lists and dictionaries) and the sections extensions declared (<see cref="InferenceRouterBuilder.DeclareSettings{TOptions}"/>).
/// A key nothing binds is a mistake the binder would ignore silently — a misspelt key variable is a different key, a misspelt
/// timeout no timeout — so every one is reported at start with its full path and the nearest valid key.
/// </summary>
/// <remarks>
/// No list of keys is kept by hand: a new option is known the moment it is a property. A type whose properties reflection cannot see
/// (none bindable, or removed by trimming) is not checked below its key rather than refused. Thread-safe.
/// </remarks>
internal static class KnownSettings
{
    // Sections of first-party features that are read only when the feature is on: the hint names the call that turns it on.
    private static readonly Dictionary<string, string> s_featureSections = new(StringComparer.OrdinalIgnoreCase)
    {
        [QualityPredictorOptions.SectionName] = "AddQualityRouting() on the router's builder",
        ["Redis"] = "UseRedis() on the router's builder (package InferenceRouter.Redis)",
        ["LocalModels"] = "AddLocalOnnxRoutes() or AddLocalOnnxRoute(name) on the router's builder (package InferenceRouter.Onnx)",
    };

    private static readonly ConcurrentDictionary<Type, Shape> s_shapes = new();

    /// <summary>Lists every key under <paramref name="configuration"/> that neither <paramref name="rootType"/> nor a declared section binds.</summary>
    /// <param name="configuration">The router's section.</param>
    /// <param name="rootType">The type the section itself binds to.</param>
    /// <param name="sections">Sections under it that other options bind, by key.</param>
    /// <returns>One message per unknown key, naming its path and the nearest valid key.</returns>
    public static IEnumerable<string> FindUnknownKeys(IConfiguration configuration, Type rootType, IReadOnlyDictionary<string, Type> sections)
    {
        var errors = new List<string>();
        var root = ShapeOf(rootType);
        foreach (var child in configuration.GetChildren())
        {
            if (root.Properties!.TryGetValue(child.Key, out var type) || sections.TryGetValue(child.Key, out type))
            {
                Check(child, type, errors);
            }
            else if (s_featureSections.TryGetValue(child.Key, out var feature))
            {
                errors.Add($"{child.Path} is set, but nothing reads it: call {feature}, or remove the section.");
            }
            else
            {
                errors.Add(Unknown(child, [.. root.Properties.Keys, .. sections.Keys]));
            }
        }

        return errors;
    }

    private static void Check(IConfigurationSection section, Type type, List<string> errors)
    {
        var shape = ShapeOf(type);
        switch (shape.Kind)
        {
            case ShapeKind.Value:
                foreach (var child in section.GetChildren())
                {
                    errors.Add($"{child.Path} is not a known setting: {section.Key} takes a single value, not keys under it.");
                }

                break;
            case ShapeKind.Collection:
                // List indices and dictionary keys are the app's own: check each entry against the element type.
                foreach (var child in section.GetChildren())
                {
                    if (shape.IsMap && IsListIndex(child.Key))
                    {
                        // "Tags": ["eu"] binds the tag "0" = "eu": every rule on a real tag would stop applying, silently.
                        errors.Add($"{child.Path} looks like a list entry, but {section.Key} is a map of names to values: write {section.Path}:<name> = <value> (in JSON an object, not an array).");
                        continue;
                    }

                    Check(child, shape.Element!, errors);
                }

                break;
            case ShapeKind.CodeOnly:
                errors.Add($"{section.Path} cannot be set in configuration: {section.Key} is set in code (on the options object, after binding).");
                break;
            case ShapeKind.Object:
                foreach (var child in section.GetChildren())
                {
                    if (shape.Properties!.TryGetValue(child.Key, out var property))
                    {
                        Check(child, property, errors);
                    }
                    else
                    {
                        errors.Add(Unknown(child, shape.Properties.Keys));
                    }
                }

                break;
            default:
                break; // Opaque: nothing to check against.
        }
    }

    private static string Unknown(IConfigurationSection key, IEnumerable<string> candidates)
    {
        var known = candidates.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        return Nearest(key.Key, known) is { } nearest
            ? $"{key.Path} is not a known setting; did you mean {nearest}?"
            : $"{key.Path} is not a known setting. Known settings there: {string.Join(", ", known)}.";
    }

    /// <summary>The candidate closest to <paramref name="key"/> by edit distance (case-insensitive), when it is close enough to be the one meant.</summary>
    internal static string? Nearest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            int distance = EditDistance(key, candidate);
            bool contained = candidate.Contains(key, StringComparison.OrdinalIgnoreCase) || key.Contains(candidate, StringComparison.OrdinalIgnoreCase);

            // Close: within a third of the longer key (at least two edits), or one key contained in the other (Tag, Tags).
            if ((distance <= Math.Max(2, Math.Max(key.Length, candidate.Length) / 3) || (contained && Math.Min(key.Length, candidate.Length) >= 3)) && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Levenshtein distance, ignoring case.</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + substitution);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static Shape ShapeOf(Type type) => s_shapes.GetOrAdd(type, static t => Describe(t));

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Options types are bound by the configuration binder, which keeps their properties; a type whose properties were removed shows none and is not checked (Opaque), never refused.")]
    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "As above: element and property types of bound options.")]
    private static Shape Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsValue(type))
        {
            return Shape.Value;
        }

        if (type.IsArray)
        {
            return Shape.CollectionOf(type.GetElementType()!);
        }

        if (ElementOf(type, out bool map) is { } element)
        {
            return Shape.CollectionOf(element, map);
        }

        if (type == typeof(object) || type.IsInterface || type.IsAbstract || typeof(Delegate).IsAssignableFrom(type))
        {
            return Shape.Opaque;
        }

        var properties = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod?.IsPublic != true || typeof(Delegate).IsAssignableFrom(property.PropertyType))
            {
                continue;
            }

            // The binder sets what has a public setter, and fills what it can only get when it is a collection or an object.
            bool settable = property.SetMethod?.IsPublic == true;
            if (!settable && IsValue(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType))
            {
                continue;
            }

            var name = property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name;
            properties[name] = property.PropertyType;
        }

        // One of ours with nothing to bind (a classifier, a policy) is set in code; anything else with none visible is not checked
        // (a type whose properties trimming removed must never be refused).
        return properties.Count > 0 ? Shape.ObjectWith(properties)
            : type.Assembly == typeof(KnownSettings).Assembly && type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Length == 0 ? Shape.CodeOnly
            : Shape.Opaque;
    }

    /// <summary>The value type of a dictionary, or the element type of another collection; null for anything else.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Interfaces of bound collection types; a type whose interfaces were removed is treated as an object.")]
    private static Type? ElementOf(Type type, out bool map)
    {
        map = false;
        Type? element = null;
        foreach (var candidate in type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
        {
            if (!candidate.IsGenericType)
            {
                continue;
            }

            var definition = candidate.GetGenericTypeDefinition();
            if (definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>))
            {
                map = candidate.GetGenericArguments()[0] == typeof(string);
                return candidate.GetGenericArguments()[1];
            }

            if (definition == typeof(IEnumerable<>))
            {
                element ??= candidate.GetGenericArguments()[0];
            }
        }

        return element;
    }

    private static bool IsListIndex(string key) => key.Length is > 0 and <= 9 && key.All(char.IsAsciiDigit);

    /// <summary>Whether the binder reads <paramref name="type"/> from one string (what it converts: primitives, enums, times, URIs…).</summary>
    private static bool IsValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) ||
        type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeOnly) ||
        type == typeof(Guid) || type == typeof(Uri) || type == typeof(Version) || type == typeof(Half) || type == typeof(Int128) ||
        type == typeof(UInt128) || type == typeof(System.Globalization.CultureInfo);

    private enum ShapeKind
    {
        Opaque,
        Value,
        Collection,
        Object,
        CodeOnly,
    }

    /// <summary>What a type binds from: one value, entries of an element type, named properties, or something not checked.</summary>
    private sealed class Shape
    {
        private Shape(ShapeKind kind, Type? element = null, Dictionary<string, Type>? properties = null, bool map = false)
        {
            Kind = kind;
            IsMap = map;
            Element = element;
            Properties = properties;
        }

        public static Shape Value { get; } = new(ShapeKind.Value);

        public static Shape Opaque { get; } = new(ShapeKind.Opaque, properties: new(StringComparer.OrdinalIgnoreCase));

        public static Shape CodeOnly { get; } = new(ShapeKind.CodeOnly, properties: new(StringComparer.OrdinalIgnoreCase));

        /// <summary>Gets a value indicating whether the entries are named (a dictionary with string keys), not numbered.</summary>
        public bool IsMap { get; }

        public ShapeKind Kind { get; }

        public Type? Element { get; }

        public Dictionary<string, Type>? Properties { get; }

        public static Shape CollectionOf(Type element, bool map = false) => new(ShapeKind.Collection, element, map: map);

        public static Shape ObjectWith(Dictionary<string, Type> properties) => new(ShapeKind.Object, properties: properties);
    }
}
