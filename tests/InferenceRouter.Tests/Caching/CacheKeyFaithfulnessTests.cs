namespace InferenceRouter.Tests.Caching;

/// <summary>Issue 22 item 9: an additional property is keyed only by a serialisation that says everything about it; otherwise the call bypasses.</summary>
public class CacheKeyFaithfulnessTests
{
    private static readonly List<ChatMessage> s_question = [new(ChatRole.User, "Which data centre serves me?")];

    [Fact]
    public void Values_of_odd_types_never_share_a_key_with_another_value()
    {
        var random = new Random(9);
        for (int round = 0; round < 200; round++)
        {
            string a = Region(random), b = Region(random);
            if (a == b)
            {
                continue;
            }

            foreach (var (make, faithful) in Makers())
            {
                var (first, second) = (Request(make(a)), Request(make(b)));
                if (faithful)
                {
                    first.Bypass.Should().BeFalse($"{make(a).GetType().Name} serialises whole: {first.BypassReason}");
                    first.Key.Should().NotBe(second.Key, $"{make(a)} and {make(b)} are different requests");
                    first.Key.Should().Be(Request(make(a)).Key, "keys are stable");
                }
                else
                {
                    first.Bypass.Should().BeTrue($"a {make(a).GetType().Name} does not serialise whole, so it must never share a key");
                    first.BypassReason.Should().Contain("'filters'").And.Contain("cannot be keyed faithfully");
                }
            }
        }
    }

    private static CacheRequest Request(object value)
    {
        var options = new ChatOptions { AdditionalProperties = new() { ["filters"] = value } };
        return CacheRequest.Create(s_question, options, CallContext.Capture(options), partitionByUser: false);
    }

    private static string Region(Random random) => new([.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => (char)random.Next('a', 'z' + 1))]);

    private static IEnumerable<(Func<string, object> Make, bool Faithful)> Makers() =>
    [
        (r => (r, 1), false),                                                   // ValueTuple: {}
        (r => new PublicFields { Region = r }, false),                          // public fields: {}
        (r => new PrivateState(r), false),                                      // a private field no property shows
        (r => new Holder { Filter = new DerivedFilter { Region = r } }, false),  // a derived value behind its base type
        (r => new[] { (object)(r, 2) }, false),                                 // an unfaithful value inside a list
        (r => new Dictionary<string, object?> { ["region"] = r }, true),
        (r => new FilterRecord(r, 3), true),
        (r => new { region = r, tier = 1 }, true),
        (r => new List<FilterRecord> { new(r, 1), new("x", 2) }, true),
        (r => System.Text.Json.JsonDocument.Parse($"{{\"region\":\"{r}\"}}").RootElement, true),
    ];

    private sealed class PublicFields
    {
        public string? Region;
    }

    private sealed class PrivateState(string region)
    {
        public override string ToString() => region;
    }

    private class BaseFilter
    {
        public int Version { get; set; }
    }

    private sealed class DerivedFilter : BaseFilter
    {
        public string? Region { get; set; }
    }

    private sealed class Holder
    {
        public BaseFilter? Filter { get; set; }
    }

    private sealed record FilterRecord(string Region, int Tier);
}
