namespace InferenceRouter.Tests.Caching;

/// <summary>
/// Issue 22 items 2 and 3, as classes: swapping the terms around a direction word or the operands of an expression, negating a word by
/// morphology, or using the opposite (or another member) of a contrast set never agrees; paraphrases that keep order, direction and
/// polarity do. Random pools and templates, the invariant checked every time.
/// </summary>
public class SalientTermsTests
{
    private static readonly string[] s_places = ["Paris", "London", "Berlin", "Munich", "Boston", "Chicago", "Lisbon", "Madrid", "Tokyo", "Seoul", "Oslo", "Dublin"];
    private static readonly string[] s_units = ["km", "miles", "meters", "feet", "inches", "grams", "ounces", "kg", "pounds", "cups", "liters", "gallons", "Celsius", "Fahrenheit", "USD", "EUR", "hours", "minutes"];
    private static readonly string[] s_things = ["benzene", "toluene", "water", "ice", "tea", "coffee", "wolves", "coyotes", "silver", "lead", "sugar", "salt", "cats", "dogs"];
    private static readonly string[] s_directionWords = ["to", "into", "->", "→", "than", "vs", "before", "after", "over"];
    private static readonly string[] s_openings = ["", "How do I ", "How can I ", "What is the way to ", "Please "];
    private static readonly string[] s_operators = ["-", "/", "^", "+", "*", "%", ">", "<"];

    [Fact]
    public void Swapping_the_terms_around_a_direction_word_never_agrees_and_keeping_them_does()
    {
        var random = new Random(2202);
        for (int round = 0; round < 2000; round++)
        {
            var pool = random.Next(3) switch { 0 => s_places, 1 => s_units, _ => s_things };
            var (x, y) = TwoOf(pool, random);
            string verb = random.Next(3) switch { 0 => "convert", 1 => "go", _ => "compare" };
            string direction = s_directionWords[random.Next(s_directionWords.Length)];
            string number = random.Next(2) == 0 ? string.Empty : $"{random.Next(1, 500)} ";
            string question = $"{verb} {number}{x} {direction} {y}";
            string swapped = $"{verb} {number}{y} {direction} {x}";
            string asked = s_openings[random.Next(s_openings.Length)] + question + "?";
            string paraphrase = s_openings[random.Next(s_openings.Length)] + question;

            SalientTerms.Agree(asked, paraphrase).Should().BeTrue($"'{paraphrase}' keeps the order of '{asked}'");
            SalientTerms.Agree(asked, s_openings[random.Next(s_openings.Length)] + swapped + "?").Should().BeFalse($"'{swapped}' reverses '{asked}'");
        }

        // From/to with the clauses swapped keeps each side: the same trip.
        SalientTerms.Agree("How do I get from Paris to London?", "How do I get to London from Paris?").Should().BeTrue();
        SalientTerms.Agree("Train from Berlin to Munich", "Train from Munich to Berlin").Should().BeFalse();
        SalientTerms.Agree("How many grams are in 3 ounces?", "How many ounces are in 3 grams?").Should().BeFalse();
    }

    [Fact]
    public void Swapping_the_operands_of_an_expression_never_agrees_and_spacing_does_not_matter()
    {
        var random = new Random(2203);
        for (int round = 0; round < 2000; round++)
        {
            string a = Operand(random), b = Operand(random);
            if (a == b)
            {
                continue;
            }

            string op = s_operators[random.Next(s_operators.Length)];
            string opening = random.Next(2) == 0 ? "What is" : "Simplify";
            string asked = $"{opening} {a}{op}{b}?";

            SalientTerms.Agree(asked, $"{opening} {a} {op} {b}").Should().BeTrue($"'{asked}' only spaced differently");
            SalientTerms.Agree(asked, $"{opening} {b}{op}{a}?").Should().BeFalse($"'{b}{op}{a}' swaps the operands of '{a}{op}{b}'");
            SalientTerms.Agree(asked, $"{opening} {b} {op} {a}?").Should().BeFalse($"'{b} {op} {a}' swaps the operands of '{a}{op}{b}'");
        }

        SalientTerms.Agree("What is -5 squared?", "What is 5 squared?").Should().BeFalse("a minus sign is part of the number");
        SalientTerms.Agree("What is 12 minus 5?", "What is 5 minus 12?").Should().BeFalse("numbers are compared in order");
    }

    [Theory]
    [InlineData("safe", "unsafe")]
    [InlineData("legal", "illegal")]
    [InlineData("possible", "impossible")]
    [InlineData("regular", "irregular")]
    [InlineData("toxic", "non-toxic")]
    [InlineData("toxic", "nontoxic")]
    [InlineData("honest", "dishonest")]
    [InlineData("active", "inactive")]
    [InlineData("harmful", "harmless")]
    [InlineData("inflammatory", "anti-inflammatory")]
    [InlineData("activated", "deactivated")]
    [InlineData("understood", "misunderstood")]
    [InlineData("gluten", "gluten-free")]
    public void A_word_and_its_negated_form_never_agree(string word, string negated)
    {
        var random = new Random(word.Length * 31 + negated.Length);
        for (int round = 0; round < 50; round++)
        {
            var (template, _) = Template(random);
            SalientTerms.Agree(string.Format(template, word), string.Format(template, negated)).Should().BeFalse($"'{negated}' negates '{word}'");
            SalientTerms.Agree(string.Format(template, negated), string.Format(template, word)).Should().BeFalse("either way round");
            SalientTerms.Agree(string.Format(template, negated), string.Format(Template(random).Template, negated)).Should().BeTrue("the same polarity in other words");
        }
    }

    [Fact]
    public void Different_members_of_a_contrast_set_never_agree_and_synonyms_do()
    {
        var random = new Random(2204);
        foreach (var set in ContrastSets.Sets)
        {
            var members = set.TrimStart('~').Split(' ').Select(m => m.Split('|')).ToArray();
            for (int round = 0; round < 20; round++)
            {
                int i = random.Next(members.Length), j = (i + 1 + random.Next(members.Length - 1)) % members.Length;
                string word = members[i][random.Next(members[i].Length)], synonym = members[i][random.Next(members[i].Length)], other = members[j][random.Next(members[j].Length)];
                var (template, _) = Template(random);
                SalientTerms.Agree(string.Format(template, word), string.Format(template, other)).Should().BeFalse($"'{word}' and '{other}' exclude each other");
                SalientTerms.Agree(string.Format(template, word), string.Format(template, synonym)).Should().BeTrue($"'{word}' and '{synonym}' are one member");
            }
        }
    }

    [Theory]
    [InlineData("How do I install Python on my laptop?", "How can I install Python on my laptop?")]
    [InlineData("What should I wear under a wetsuit?", "What do I wear under a wetsuit?")]
    [InlineData("What is compound interest?", "What does compound interest mean?")]
    [InlineData("Is it worth it to invest in index funds?", "Is investing in index funds worth it?")]
    [InlineData("How do I discuss a raise with my boss?", "How should I discuss a raise with my boss?")]
    [InlineData("What is dinner etiquette in Japan?", "What is the etiquette for dinner in Japan?")]
    [InlineData("How do I display an image in HTML?", "How can I display an image in HTML?")]
    [InlineData("Why does my car stall and how do I install a new starter?", "Why does my car stall and how can I install a new starter?")]
    public void Words_that_only_start_like_a_negation_are_not_read_as_one(string asked, string paraphrase) =>
        SalientTerms.Agree(asked, paraphrase).Should().BeTrue("install, under, interest, invest, discuss, display, dinner negate nothing in the other prompt");

    [Fact]
    public void Different_symbols_never_agree()
    {
        var random = new Random(2205);
        for (int round = 0; round < 500; round++)
        {
            string a = char.ConvertFromUtf32(0x1F330 + random.Next(0x1F6FF - 0x1F330)), b = char.ConvertFromUtf32(0x1F330 + random.Next(0x1F6FF - 0x1F330));
            var (template, _) = Template(random);
            SalientTerms.Agree(string.Format(template, a), string.Format(template, b)).Should().Be(a == b, $"'{a}' and '{b}'");
        }

        SalientTerms.Agree("How much is $100 in yen?", "How much is €100 in yen?").Should().BeFalse();
    }

    private static (string Template, int Index) Template(Random random)
    {
        string[] templates = ["Is it {0} to eat this at night?", "Is this mushroom {0} for my family?", "Why is the result {0} here?", "Tell me if {0} is right", "What does {0} mean in this case?", "Are these berries {0}?"];
        int index = random.Next(templates.Length);
        return (templates[index], index);
    }

    private static (string, string) TwoOf(string[] pool, Random random)
    {
        int i = random.Next(pool.Length), j = (i + 1 + random.Next(pool.Length - 1)) % pool.Length;
        return (pool[i], pool[j]);
    }

    private static string Operand(Random random) => random.Next(3) == 0 ? ((char)('a' + random.Next(6))).ToString() : random.Next(0, 60).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
