using System.Collections.Frozen;

namespace InferenceRouter;

/// <summary>
/// Words that exclude each other in a question — opposites (safe/dangerous, before/after, max/min), audiences (kids/adults), formats
/// (JSON/YAML), languages, units, days — and negating affixes (un-, in-, im-, il-, ir-, non-, dis-, de-, anti-, mis-; -less, -free).
/// Two prompts that use different members of one set, or a word and its negated form, ask different questions however close their
/// embeddings: "is X safe for kids" is not "is X dangerous for adults".
/// </summary>
internal static class ContrastSets
{
    // One set a line; members separated by spaces, synonyms within a member by '|'. Words are matched after SalientTerms.Stem.
    // A word belongs to one set only. '~' marks units: "in" between them is a direction ("grams in 3 ounces").
    internal static readonly string[] Sets =
    [
        "safe|safety dangerous|unsafe|hazardous|harmful|toxic|poisonous",
        "legal|lawful|allowed|permitted illegal|unlawful|forbidden|banned|prohibited",
        "before prior after",
        "increase|raise|boost|grow decrease|reduce|cut|shrink",
        "max|maximum|highest min|minimum|lowest",
        "most least",
        "more fewer|less",
        "good|best|better bad|worst|worse",
        "high|higher low|lower",
        "cheap|cheaper|cheapest|inexpensive expensive|pricey|costly",
        "hot|warm|warmer|hotter cold|colder|cool|cooler",
        "fast|faster|fastest|quick|quicker slow|slower|slowest",
        "big|bigger|biggest|large|larger|largest small|smaller|smallest|little|tiny",
        "true false",
        "buy|purchase sell",
        "open close|shut",
        "win|winning|won|gain|gaining lose|losing|lost",
        "read write",
        "up down",
        "add|insert remove|delete",
        "import export",
        "upload download",
        "input output",
        "encrypt decrypt",
        "encode decode",
        "enable disable",
        "push pull",
        "positive negative",
        "early|earlier late|later",
        "above|over below|under",
        "inside|indoor|indoors outside|outdoor|outdoors",
        "left right",
        "north south east west",
        "first last",
        "new old",
        "strong|stronger weak|weaker",
        "accept reject",
        "include exclude",
        "rise fall",
        "long|longer short|shorter",
        "pro|pros|advantage|benefit con|cons|disadvantage|drawback|risk",
        "love hate",
        "man|men|male|boy woman|women|female|girl",
        "kid|child|children toddler|infant|baby teen|teenager|adolescent adult|grownup senior|elderly",
        "beginner|novice intermediate advanced|expert",
        "json yaml|yml xml csv toml",
        "python javascript|js typescript java ruby php kotlin swift sql bash|shell powershell html css",
        "~km|kilometer|kilometre mile meter|metre cm|centimeter|centimetre mm|millimeter inch foot|feet yard",
        "~kg|kilogram lb|pound gram ounce|oz ton|tonne",
        "~liter|litre ml|milliliter gallon cup tablespoon|tbsp teaspoon|tsp",
        "~celsius fahrenheit kelvin",
        "~usd|dollar eur|euro gbp yen|jpy rupee|inr",
        "~second minute hour day week month year decade century",
        "hourly daily weekly monthly yearly|annual|annually",
        "monday tuesday wednesday thursday friday saturday sunday",
        "january february march april june july august september october november december",
        "today tomorrow yesterday",
        "morning afternoon evening night",
        "breakfast lunch dinner",
        "summer winter autumn",
        "windows mac|macos|osx linux|ubuntu android ios|iphone",
        "dog|puppy cat|kitten horse rabbit",
        "boil|boiled fry|fried bake|baked grill|grilled roast|roasted steam|steamed",
        "raw cooked",
        "vertical horizontal",
        "ascending|asc descending|desc",
        "synchronous|sync asynchronous|async",
        "uppercase lowercase",
        "odd even",
        "past future",
        "singular plural",
        "sunrise sunset",
        "red blue green yellow black white purple pink",
        "mother|mom|mum father|dad",
        "son daughter",
        "brother sister",
        "husband wife",
        "plus minus",
        "multiply divide",
    ];

    // Negating prefixes, longest first ("non" before "no"-like clashes, "im" after "in" is irrelevant: each is tried).
    private static readonly string[] s_negatingPrefixes = ["anti", "non", "dis", "mis", "un", "in", "im", "il", "ir", "de"];

    // Suffixes that negate their base ("harmless", "sugarfree" once hyphens are dropped) and the positive one they oppose ("harmful").
    private static readonly string[] s_negatingSuffixes = ["less", "free"];

    private static readonly FrozenDictionary<string, int> s_members = BuildMembers();

    /// <summary>Returns the set and member of <paramref name="stem"/> (set × 64 + member), or -1 when it is in no set.</summary>
    public static int MemberOf(string stem) => s_members.TryGetValue(stem, out int member) ? member : -1;

    /// <summary>Whether a <see cref="MemberOf"/> value is a unit (of length, weight, volume, temperature, money or time).</summary>
    public static bool IsUnit(int member) => Sets[SetOf(member)][0] == '~';

    /// <summary>The set a <see cref="MemberOf"/> value belongs to.</summary>
    public static int SetOf(int member) => member / 64;

    /// <summary>
    /// Returns whether <paramref name="word"/> is a negated form of a word in <paramref name="other"/> that <paramref name="other"/> does not
    /// itself negate: "unsafe" against a prompt with "safe". The base must be in the other prompt, so words that merely start like a
    /// prefix ("install", "under", "interest") never count.
    /// </summary>
    public static bool NegatesWordOf(string word, IReadOnlySet<string> other)
    {
        if (other.Contains(word))
        {
            return false;
        }

        foreach (var prefix in s_negatingPrefixes)
        {
            if (word.Length >= prefix.Length + 3 && word.StartsWith(prefix, StringComparison.Ordinal) && other.Contains(word[prefix.Length..]))
            {
                return true;
            }
        }

        foreach (var suffix in s_negatingSuffixes)
        {
            if (word.Length >= suffix.Length + 3 && word.EndsWith(suffix, StringComparison.Ordinal))
            {
                var stem = word[..^suffix.Length];
                if (other.Contains(stem) || other.Contains(stem + "ful"))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static FrozenDictionary<string, int> BuildMembers()
    {
        var members = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int set = 0; set < Sets.Length; set++)
        {
            var parts = Sets[set].TrimStart('~').Split(' ');
            for (int member = 0; member < parts.Length; member++)
            {
                foreach (var word in parts[member].Split('|'))
                {
                    // A word in two sets would make the second silently win: a mistake in the table, caught by the tests at start.
                    var stem = SalientTerms.Stem(word);
                    if (members.TryGetValue(stem, out int existing) && existing != (set * 64) + member)
                    {
                        throw new InvalidOperationException($"'{word}' is in two contrast sets.");
                    }

                    members[stem] = (set * 64) + member;
                }
            }
        }

        return members.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
