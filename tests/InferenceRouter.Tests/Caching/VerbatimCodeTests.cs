using Xunit.Abstractions;

namespace InferenceRouter.Tests.Caching;

/// <summary>
/// Issue 22 item 1 (review F1, F2): a semantic hit never serves a question whose code differs — code indented anywhere (the first line
/// too) with the line that opens it, fenced blocks and inline spans of any backtick run — checked as a class over random snippets, and
/// end to end with the real all-MiniLM-L6-v2.
/// </summary>
[Collection(EmbeddingCollection.Name)]
public class VerbatimCodeTests(EmbeddingFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] s_tokens = ["total", "price", "limit", "balance", "x", "i", "rows", "approve()", "return", "if", "=", "<", ">", "+", "-", "*", "/", "1", "0", "'a  b'", "id", "rm", "-rf", "./", "DELETE", "FROM", "users"];
    private const string Replacements = "abcxyz019<>+-*/=!.;:()[]{}#$%&|^";

    [Fact]
    public void Two_questions_whose_code_differs_by_one_character_never_agree()
    {
        var random = new Random(2201);
        for (int round = 0; round < 3000; round++)
        {
            var (shape, code, wrap) = Snippet(random);
            var edited = EditOneCharacter(code, random);
            string asked = wrap(edited), cached = wrap(code);

            VerbatimParts.Agree(cached, cached).Should().BeTrue("a question agrees with itself");
            VerbatimParts.Agree(asked, cached).Should().BeFalse($"{shape}: '{Escape(asked)}' has other code than '{Escape(cached)}'");
            VerbatimParts.Agree(cached, asked).Should().BeFalse($"{shape}, reversed");
        }
    }

    [Fact]
    public void Backtick_runs_pair_by_length()
    {
        VerbatimParts.Code("Is ``rm -rf /`` safe?").Should().Equal("``rm -rf /``");
        VerbatimParts.Code("Is ``a ` b`` or `c` used?").Should().Equal("``a ` b``", "`c`");
        VerbatimParts.Code("A span ``across\nlines`` ends there.").Should().Equal("``across\nlines``");
        VerbatimParts.Code("An unclosed ``run here\nand prose").Should().Equal("``run here");
    }

    public static TheoryData<string, string, string> Pairs() => new()
    {
        { "first line indented", "    total = price * quantity\n    return total\nWhat does this return?", "    total = price + quantity\n    return total\nWhat does this return?" },
        { "first line indented, comparison", "    if balance < limit:\n        approve()\nWhen is the payment approved?", "    if balance > limit:\n        approve()\nWhen is the payment approved?" },
        { "first line tab-indented", "\tdelete_user(id)\nIs this safe to run?", "\tdelete_users()\nIs this safe to run?" },
        { "the line that opens a block", "if balance < limit:\n    approve()\nWhen is the payment approved?", "if balance > limit:\n    approve()\nWhen is the payment approved?" },
        { "double-backtick inline code", "Is ``rm -rf /`` safe?", "Is ``rm -rf ./`` safe?" },
        { "double-backtick inline code, sql", "Will ``DELETE FROM users WHERE id = 1`` remove every row?", "Will ``DELETE FROM users`` remove every row?" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task A_semantic_hit_never_serves_different_code(string name, string cached, string asked)
    {
        var inner = TestChatClient.Answering("Answer to the first snippet.");
        using var cache = new SemanticCacheChatClient(inner, fixture.Generator);
        await cache.GetResponseAsync(cached);

        var info = (await cache.GetResponseAsync(asked)).GetRoutingInfo();

        output.WriteLine($"{name}: hit={info?.CacheHit} similarity={info?.Similarity:F4}");
        info?.CacheHit.Should().BeNull($"'{Escape(asked)}' has other code than '{Escape(cached)}'");
        inner.Calls.Should().Be(2);
    }

    /// <summary>A random snippet in one of the shapes code takes in a message, and how the message wraps it in prose.</summary>
    private static (string Shape, string Code, Func<string, string> Wrap) Snippet(Random random)
    {
        string indent = random.Next(3) switch { 0 => "\t", 1 => "  ", _ => "    " };
        string Line() => string.Join(' ', Enumerable.Range(0, random.Next(1, 6)).Select(_ => s_tokens[random.Next(s_tokens.Length)]));
        string Lines(int count, string prefix) => string.Join('\n', Enumerable.Range(0, count).Select(i => prefix + (i % 2 == 1 ? indent : "") + Line()));
        string question = random.Next(2) == 0 ? "What does this do?" : "Is this safe to run?";
        switch (random.Next(5))
        {
            case 0:
                return ("indented from the first line", Lines(random.Next(1, 4), indent), code => code + "\n" + question);
            case 1:
                return ("indented after prose", Lines(random.Next(1, 4), indent), code => question + "\n" + code);
            case 2:
                return ("an opening line and its block", Line() + ":\n" + Lines(random.Next(1, 3), indent), code => code + "\n" + question);
            case 3:
                string fence = random.Next(2) == 0 ? "```" : "~~~";
                return ("fenced", fence + "\n" + Lines(random.Next(1, 4), "") + "\n" + fence, code => question + "\n" + code);
            default:
                string ticks = new('`', random.Next(1, 4));
                return ($"inline, {ticks.Length} backticks", ticks + Line() + ticks, code => $"Is {code} {question}");
        }
    }

    /// <summary>Replaces one visible character of the code (never its indentation, line breaks, backticks or fences) with another.</summary>
    private static string EditOneCharacter(string code, Random random)
    {
        var positions = Enumerable.Range(0, code.Length).Where(i => !char.IsWhiteSpace(code[i]) && code[i] is not ('`' or '~')).ToList();
        int at = positions[random.Next(positions.Count)];
        char replacement;
        do
        {
            replacement = Replacements[random.Next(Replacements.Length)];
        }
        while (replacement == code[at]);

        return string.Concat(code.AsSpan(0, at), [replacement], code.AsSpan(at + 1));
    }

    private static string Escape(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
}
