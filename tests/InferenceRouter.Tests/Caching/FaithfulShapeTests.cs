using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace InferenceRouter.Tests.Caching;

/// <summary>
/// Issue 22 item 9 (review F4): only shapes known to serialise completely are keyed; anything else bypasses. Random values are built by
/// nesting a region ("eu", "us", …) in random layers of faithful and unfaithful shapes; a value with one unfaithful layer must bypass,
/// a value of faithful layers only must be keyed, and two regions never share a key.
/// </summary>
public class FaithfulShapeTests
{
    private static readonly List<ChatMessage> s_question = [new(ChatRole.User, "Which data centre serves me?")];

    public interface IFilter
    {
    }

    [Fact]
    public void A_value_with_any_unfaithful_layer_bypasses_and_faithful_values_never_share_a_key()
    {
        var random = new Random(2209);
        var leaves = Leaves();
        var layers = Layers();
        int faithfulSeen = 0, unfaithfulSeen = 0;
        for (int round = 0; round < 1500; round++)
        {
            var leaf = leaves[random.Next(leaves.Count)];
            var chosen = Enumerable.Range(0, random.Next(0, 4)).Select(_ => layers[random.Next(layers.Count)]).ToList();
            bool faithful = leaf.Faithful && chosen.All(l => l.Faithful);
            object Make(string region) => chosen.Aggregate(leaf.Make(region), (value, layer) => layer.Wrap(value));
            string shape = string.Join(" > ", chosen.Select(l => l.Name).Reverse().Append(leaf.Name));

            var (eu, us) = (Request(Make("eu")), Request(Make("us")));
            if (faithful)
            {
                faithfulSeen++;
                eu.Bypass.Should().BeFalse($"{shape} serialises whole: {eu.BypassReason}");
                eu.Key.Should().NotBe(us.Key, $"{shape}: eu and us are different requests");
                eu.Key.Should().Be(Request(Make("eu")).Key, "keys are stable");
            }
            else
            {
                unfaithfulSeen++;
                eu.Bypass.Should().BeTrue($"{shape} does not serialise whole, so it must never be keyed");
                eu.BypassReason.Should().Contain("'filters'");
            }
        }

        faithfulSeen.Should().BeGreaterThan(100);
        unfaithfulSeen.Should().BeGreaterThan(100);
    }

    private static CacheRequest Request(object value)
    {
        var options = new ChatOptions { AdditionalProperties = new() { ["filters"] = value } };
        return CacheRequest.Create(s_question, options, CallContext.Capture(options), partitionByUser: false);
    }

    private static List<(string Name, Func<string, object> Make, bool Faithful)> Leaves() =>
    [
        ("string", r => r, true),
        ("JsonValue of a string", r => JsonValue.Create(r), true),
        ("JsonElement", r => JsonDocument.Parse($"{{\"region\":\"{r}\"}}").RootElement, true),
        ("parsed JsonNode", r => JsonNode.Parse($"[\"{r}\", 1]")!, true),
        ("record", r => new RegionRecord(r, 1), true),
        ("bytes", r => System.Text.Encoding.UTF8.GetBytes(r), true),
        ("JsonValue of a ValueTuple", r => JsonValue.Create((r, 1))!, false),
        ("public fields", r => new PublicFields { Region = r }, false),
        ("private field", r => new PrivateState(r), false),
        ("ignored property", r => new IgnoredRegion { Region = r }, false),
        ("own converter", r => new ConvertedRegion(r), false),
    ];

    private static List<(string Name, Func<object, object> Wrap, bool Faithful)> Layers() =>
    [
        ("List<object>", v => new List<object?> { v, 1 }, true),
        ("object[]", v => new object?[] { "x", v }, true),
        ("Dictionary<string, object>", v => new Dictionary<string, object?> { ["k"] = v }, true),
        ("ImmutableArray<object>", v => ImmutableArray.Create<object?>(v), true),
        ("object property", v => new Box { Value = v }, true),
        ("record", v => new BoxRecord(v, "tag"), true),
        ("anonymous", v => new { inner = v }, true),
        ("IReadOnlyList<object> property", v => new ListHolder { Items = new List<object?> { v } }, true),
        ("ValueTuple", v => (v, 1), false),
        ("public field", v => new FieldBox { Value = v }, false),
        ("interface-typed property", v => new InterfaceHolder { Filter = new Filter { Value = v } }, false),
        ("List<interface>", v => new List<IFilter> { new Filter { Value = v } }, false),
        ("IReadOnlyList<interface> holding a List<class>", v => new FiltersHolder { Filters = new List<Filter> { new() { Value = v } } }, false),
        ("base-typed property", v => new BaseHolder { Item = new DerivedBox { Extra = v } }, false),
        ("list subclass", v => new TaggedList { Tag = v }, false),
        ("dictionary subclass", v => new TaggedDictionary { Tag = v }, false),
        ("JsonValue of a class", v => JsonValue.Create(new Box { Value = v })!, false),
        ("JsonObject of a JsonValue of a class", v => new JsonObject { ["k"] = JsonValue.Create(new Box { Value = v }) }, false),
    ];

    private sealed record RegionRecord(string Region, int Tier);

    private sealed record BoxRecord(object? Value, string Tag);

    private sealed class Box
    {
        public object? Value { get; set; }
    }

    private sealed class ListHolder
    {
        public IReadOnlyList<object?>? Items { get; set; }
    }

    private sealed class PublicFields
    {
        public string? Region;
    }

    private sealed class FieldBox
    {
        public object? Value;
    }

    private sealed class PrivateState(string region)
    {
        private readonly string _region = region;

        public int Length => _region.Length;
    }

    private sealed class IgnoredRegion
    {
        [JsonIgnore]
        public string? Region { get; set; }
    }

    [JsonConverter(typeof(EmptyConverter))]
    private sealed class ConvertedRegion(string region)
    {
        public string Region { get; } = region;
    }

    private sealed class EmptyConverter : JsonConverter<ConvertedRegion>
    {
        public override ConvertedRegion Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, ConvertedRegion value, JsonSerializerOptions options) => writer.WriteStringValue("region");
    }

    private sealed class Filter : IFilter
    {
        public object? Value { get; set; }
    }

    private sealed class InterfaceHolder
    {
        public IFilter? Filter { get; set; }
    }

    private sealed class FiltersHolder
    {
        public IReadOnlyList<IFilter>? Filters { get; set; }
    }

    private class BaseBox
    {
    }

    private sealed class DerivedBox : BaseBox
    {
        public object? Extra { get; set; }
    }

    private sealed class BaseHolder
    {
        public BaseBox? Item { get; set; }
    }

    private sealed class TaggedList : List<string>
    {
        public object? Tag { get; set; }
    }

    private sealed class TaggedDictionary : Dictionary<string, string>
    {
        public object? Tag { get; set; }
    }
}
