using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace InferenceRouter;

/// <summary>
/// Whether a value's JSON says everything about it, so that two values with the same JSON are the same value and may share a cache key.
/// Not so for state JSON leaves out: public fields (a <see cref="ValueTuple"/>, a public-field class: both <c>{}</c>), private fields
/// no property shows, ignored properties, a derived type's members behind a property of its base type, or a type with a converter of
/// its own whose output cannot be checked. Such a value bypasses the cache; it never shares a key.
/// </summary>
internal static class FaithfulJson
{
    private const int MaxDepth = 16;

    /// <summary>Returns null when <paramref name="value"/> serialises faithfully with <paramref name="options"/>, else what does not.</summary>
    public static string? Problem(object? value, JsonSerializerOptions options) => Problem(value, null, options, 0);

    private static string? Problem(object? value, Type? declared, JsonSerializerOptions options, int depth)
    {
        if (value is null || IsScalar(value))
        {
            return null;
        }

        var type = value.GetType();
        if (depth > MaxDepth)
        {
            return $"{type.Name} nests deeper than {MaxDepth} levels";
        }

        declared = declared is null ? null : Nullable.GetUnderlyingType(declared) ?? declared;
        if (declared is not null && declared != typeof(object) && declared != type && !declared.IsInterface)
        {
            // System.Text.Json writes the declared type's members only: a derived value's own state would be lost.
            return $"a {type.Name} stands where its base type {declared.Name} is declared";
        }

        if (value is JsonElement or JsonDocument or JsonNode)
        {
            return null;
        }

        var info = options.GetTypeInfo(type);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Dictionary when value is IDictionary dictionary:
                foreach (DictionaryEntry item in dictionary)
                {
                    if (!IsScalar(item.Key))
                    {
                        return $"a dictionary key of type {item.Key.GetType().Name}";
                    }

                    if (Problem(item.Value, info.ElementType, options, depth + 1) is { } inDictionary)
                    {
                        return inDictionary;
                    }
                }

                return null;
            case JsonTypeInfoKind.Enumerable when value is IEnumerable sequence:
                foreach (var item in sequence)
                {
                    if (Problem(item, info.ElementType, options, depth + 1) is { } inSequence)
                    {
                        return inSequence;
                    }
                }

                return null;
            case not JsonTypeInfoKind.Object:
                return $"{type.Name} is written by a converter whose output cannot be checked";
        }

        if (Unwritten(type, info) is { } member)
        {
            return $"{type.Name}.{member} is not written to JSON";
        }

        foreach (var property in info.Properties)
        {
            if (property.Get is { } get && Problem(get(value), property.PropertyType, options, depth + 1) is { } inProperty)
            {
                return inProperty;
            }
        }

        return null;
    }

    /// <summary>Returns a member of <paramref name="type"/> that holds state its contract does not write, or null.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070:UnrecognizedReflectionPattern", Justification = "A field the trimmer removed holds no state: the fields that remain are the ones to check.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075:UnrecognizedReflectionPattern", Justification = "As above, for base types' fields.")]
    private static string? Unwritten(Type type, JsonTypeInfo info)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in info.Properties)
        {
            if (property.AttributeProvider is MemberInfo member && property.Get is not null)
            {
                written.Add(member.Name);
            }
        }

        for (var current = type; current is not null && current != typeof(object) && current != typeof(ValueType); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
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

    /// <summary>Values JSON writes whole: text, numbers, flags, enums, times, ids.</summary>
    private static bool IsScalar(object value) => value is string or bool or char or byte or sbyte or short or ushort or int or uint or long or ulong
        or float or double or decimal or Half or Int128 or UInt128 or Enum or DateTime or DateTimeOffset or DateOnly or TimeOnly or TimeSpan or Guid
        or Uri or Version or byte[] or ReadOnlyMemory<byte> or Memory<byte>;
}
