using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace InferenceRouter;

/// <summary>
/// Whether a value's JSON says everything about it, so that two values with the same JSON are the same value and may share a cache key.
/// A whitelist of shapes known to serialise completely: scalars (well-formed text, numbers, flags, enums, times, ids, bytes), JSON trees
/// (<see cref="JsonElement"/>, <see cref="JsonDocument"/>, <see cref="JsonNode"/> whose values are such scalars), arrays, the framework's
/// own lists, sets and dictionaries (string-like keys) of such values, and plain classes and records whose every piece of state is a
/// written public property of such a value. Anything else bypasses the cache — it never shares a key.
/// </summary>
/// <remarks>
/// What the whitelist keeps out, because System.Text.Json leaves part of it out: public fields (a <see cref="ValueTuple"/>, a public-field
/// class: both <c>{}</c>), private fields no property shows, ignored properties, a value behind an interface- or base-typed property or
/// element (only the declared type's members are written: <c>{"filter":{}}</c>, <c>[{}]</c>), a collection subclass's own properties
/// (<c>[]</c>), a <see cref="JsonValue"/> wrapping an object, and types with converters of their own whose output cannot be checked.
/// A miss costs one model call; a shared key serves one tenant's or region's answer to another.
/// </remarks>
internal static class FaithfulJson
{
    private const int MaxDepth = 16;

    // The framework's collections: their JSON is their elements (and keys), nothing else. Subclasses are not these types.
    private static readonly HashSet<Type> s_sequences =
    [
        typeof(List<>), typeof(HashSet<>), typeof(SortedSet<>), typeof(LinkedList<>), typeof(Queue<>), typeof(Stack<>),
        typeof(Collection<>), typeof(ReadOnlyCollection<>), typeof(ImmutableArray<>), typeof(ImmutableList<>), typeof(ImmutableHashSet<>),
    ];

    private static readonly HashSet<Type> s_dictionaries =
    [
        typeof(Dictionary<,>), typeof(SortedDictionary<,>), typeof(SortedList<,>), typeof(ConcurrentDictionary<,>), typeof(ReadOnlyDictionary<,>),
        typeof(ImmutableDictionary<,>), typeof(ImmutableSortedDictionary<,>), typeof(Microsoft.Extensions.AI.AdditionalPropertiesDictionary<>),
    ];

    // Declared types under which System.Text.Json writes a collection by its elements (not by the interface's members).
    private static readonly HashSet<Type> s_collectionInterfaces =
    [
        typeof(IEnumerable<>), typeof(ICollection<>), typeof(IList<>), typeof(IReadOnlyCollection<>), typeof(IReadOnlyList<>), typeof(ISet<>),
        typeof(IReadOnlySet<>), typeof(IDictionary<,>), typeof(IReadOnlyDictionary<,>),
    ];

    /// <summary>Returns null when <paramref name="value"/> serialises faithfully with <paramref name="options"/>, else what does not.</summary>
    public static string? Problem(object? value, JsonSerializerOptions options) => Problem(value, null, options, 0);

    private static string? Problem(object? value, Type? declared, JsonSerializerOptions options, int depth)
    {
        if (value is null)
        {
            return null;
        }

        var type = value.GetType();
        if (depth > MaxDepth)
        {
            return $"{type.Name} nests deeper than {MaxDepth} levels";
        }

        declared = declared is null ? null : Nullable.GetUnderlyingType(declared) ?? declared;
        if (declared is not null && declared != typeof(object) && declared != type && !IsCollectionInterface(declared))
        {
            // System.Text.Json writes the declared type's members only: the value's own state would be lost.
            return $"a {type.Name} stands where {declared.Name} is declared";
        }

        if (IsScalar(value, type))
        {
            return value is string text && !Utf16Text.IsWellFormed(text) ? "a string that is not well-formed UTF-16 (a lone surrogate)" : null;
        }

        if (value is JsonElement or JsonDocument)
        {
            return null; // already JSON: written as it was read
        }

        if (value is JsonNode node)
        {
            return NodeProblem(node, options, depth);
        }

        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : null;
        if (definition is not null && s_dictionaries.Contains(definition) && value is IDictionary dictionary)
        {
            if (IsCollectionInterface(declared) && declared.GetGenericArguments().Length != 2)
            {
                return $"a {type.Name} declared as a sequence {declared.Name}"; // written as key-value pairs: a shape not vouched for
            }

            var valueType = (IsCollectionInterface(declared) ? declared : type).GetGenericArguments()[^1];
            foreach (DictionaryEntry item in dictionary)
            {
                if (item.Key is not (string or Enum or int or long or Guid) || (item.Key is string key && !Utf16Text.IsWellFormed(key)))
                {
                    return $"a dictionary key of type {item.Key.GetType().Name}";
                }

                if (Problem(item.Value, valueType, options, depth + 1) is { } inDictionary)
                {
                    return inDictionary;
                }
            }

            return null;
        }

        if ((type.IsSZArray || (definition is not null && s_sequences.Contains(definition))) && value is IEnumerable sequence)
        {
            // Written as the declared interface's elements when one is declared (IReadOnlyList<IFilter> writes IFilter's members).
            var elementType = IsCollectionInterface(declared) ? declared.GetGenericArguments()[0] : type.IsSZArray ? type.GetElementType()! : type.GetGenericArguments()[0];
            foreach (var item in sequence)
            {
                if (Problem(item, elementType, options, depth + 1) is { } inSequence)
                {
                    return inSequence;
                }
            }

            return null;
        }

        return ObjectProblem(value, type, options, depth);
    }

    private static string? NodeProblem(JsonNode node, JsonSerializerOptions options, int depth)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    if (!Utf16Text.IsWellFormed(name) || (child is not null && Problem(child, null, options, depth + 1) is not null))
                    {
                        return $"a JsonObject property '{name}' that is not faithful JSON";
                    }
                }

                return null;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null && Problem(child, null, options, depth + 1) is { } inArray)
                    {
                        return inArray;
                    }
                }

                return null;
            case JsonValue jsonValue when jsonValue.TryGetValue<JsonElement>(out _):
                return null;
            case JsonValue jsonValue when jsonValue.TryGetValue<object>(out var wrapped) && wrapped is not JsonNode && IsScalar(wrapped, wrapped.GetType()):
                return Problem(wrapped, null, options, depth + 1);
            default:
                return $"a JsonValue that wraps a {(node is JsonValue v && v.TryGetValue<object>(out var inner) ? inner.GetType().Name : node.GetType().Name)}";
        }
    }

    /// <summary>A plain class, record or struct: written by the default contract, every piece of state a written public property.</summary>
    private static string? ObjectProblem(object value, Type type, JsonSerializerOptions options, int depth)
    {
        if (type.IsPrimitive || type.IsPointer || typeof(Delegate).IsAssignableFrom(type) || typeof(MemberInfo).IsAssignableFrom(type))
        {
            return $"{type.Name} is not data";
        }

        var info = options.GetTypeInfo(type);
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return $"{type.Name} is written by a converter whose output cannot be checked";
        }

        if (Unwritten(type, info) is { } member)
        {
            return $"{type.Name}.{member} is not written to JSON";
        }

        foreach (var property in info.Properties)
        {
            if (property.IsExtensionData || property.Get is not { } get)
            {
                return $"{type.Name}.{property.Name} is not a plain written property";
            }

            object? propertyValue;
            try
            {
                propertyValue = get(value);
            }
            catch (Exception e)
            {
                return $"reading {type.Name}.{property.Name} threw {e.GetType().Name}";
            }

            if (Problem(propertyValue, property.PropertyType, options, depth + 1) is { } inProperty)
            {
                return inProperty;
            }
        }

        return null;
    }

    /// <summary>Returns a member of <paramref name="type"/> that holds state its contract does not write (any public field included), or null.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070:UnrecognizedReflectionPattern", Justification = "A field the trimmer removed holds no state: the fields that remain are the ones to check.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075:UnrecognizedReflectionPattern", Justification = "As above, for base types' fields.")]
    private static string? Unwritten(Type type, JsonTypeInfo info)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in info.Properties)
        {
            if (property.AttributeProvider is PropertyInfo member && property.Get is not null)
            {
                written.Add(member.Name);
            }
        }

        for (var current = type; current is not null && current != typeof(object) && current != typeof(ValueType); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.IsPublic)
                {
                    return field.Name; // written only with IncludeFields, and then beside properties it may shadow: not a shape we vouch for
                }

                // An auto-property's (or anonymous type's) backing field, <Name>k__BackingField, is written when its property is; any other
                // field must be written itself.
                string name = field.Name.StartsWith('<') && field.Name.IndexOf('>') is > 1 and var end
                    ? field.Name[1..end]
                    : field.Name;
                if (!written.Contains(name))
                {
                    return name;
                }
            }
        }

        return null;
    }

    private static bool IsCollectionInterface([NotNullWhen(true)] Type? declared) => declared is not null && declared.IsInterface && declared.IsGenericType && s_collectionInterfaces.Contains(declared.GetGenericTypeDefinition());

    /// <summary>Values JSON writes whole: text, numbers, flags, enums, times, ids, bytes — exactly these types, never a subclass.</summary>
    private static bool IsScalar(object value, Type type) => value is string or bool or char or byte or sbyte or short or ushort or int or uint or long or ulong
        or float or double or decimal or Half or Int128 or UInt128 or Enum or DateTime or DateTimeOffset or DateOnly or TimeOnly or TimeSpan or Guid
        or Version or byte[] or ReadOnlyMemory<byte> or Memory<byte> || type == typeof(Uri);
}
