namespace InferenceRouter.Tests.Budgets;

/// <summary>A price comes from a listed model id, a listed alias, or a dated snapshot of either; never from a guess.</summary>
public class PriceCatalogLookupTests
{
    [Theory]
    [InlineData("o3-pro")]
    [InlineData("gpt-5-pro")]
    [InlineData("o3-deep-research")]
    [InlineData("gpt-4o-realtime-preview")]
    [InlineData("openai/o3-pro")]
    [InlineData("o3-pro-2025-06-10")]
    public void A_premium_model_is_not_priced_as_its_cheaper_base(string model)
    {
        ModelCatalog.Default.TryGetPrice(model, out var pricing).Should().BeFalse($"'{model}' is not listed, though a cheaper relative is");
        pricing.Should().BeNull();
    }

    [Theory]
    [InlineData("gpt-4.1-2025-04-14", "gpt-4.1")]
    [InlineData("gpt-4o-mini-2024-07-18", "gpt-4o-mini")]
    [InlineData("o3-2025-04-16", "o3")]
    [InlineData("claude-sonnet-4-20250514", "claude-sonnet-4")]
    [InlineData("claude-3-5-haiku-20241022", "claude-3-5-haiku")]
    [InlineData("anthropic/claude-opus-4-20250514", "claude-opus-4")]
    [InlineData("GPT-5-2025-08-07", "gpt-5")]
    [InlineData("claude-sonnet-4-0", "claude-sonnet-4")]
    [InlineData("claude-3-5-haiku-latest", "claude-3-5-haiku")]
    public void A_dated_snapshot_or_a_listed_alias_is_priced_as_the_model_it_names(string model, string listed)
    {
        ModelCatalog.Default.TryGetPrice(model, out var pricing).Should().BeTrue();
        pricing.Should().BeSameAs(ModelCatalog.Default.Prices[listed]);
    }

    [Fact]
    public void A_snapshot_priced_differently_is_listed_on_its_own_and_wins_over_its_family()
    {
        ModelCatalog.Default.TryGetPrice("gpt-4o-2024-05-13", out var old).Should().BeTrue();
        old!.InputPerMillion.Should().Be(5.00m);
        ModelCatalog.Default.TryGetPrice("gpt-4o-2024-08-06", out var current).Should().BeTrue();
        current.Should().BeSameAs(ModelCatalog.Default.Prices["gpt-4o"]);
    }

    [Fact]
    public void No_id_that_is_not_listed_or_a_dated_snapshot_of_a_listed_one_gets_a_price()
    {
        var catalog = ModelCatalog.Default;
        var names = catalog.Prices.Keys.Concat(catalog.Aliases.Keys).ToArray();
        string[] suffixes =
        [
            "", "-pro", "-preview", "-mini", "-latest", "-audio-preview", "-deep-research", "-0", "-1", "-x", "pro", ".5",
            "-2025-04-14", "-20241022", "-2025-04", "-202504", "-2025-13-01", "-2025-04-32", "-20251301", "-0000-00-00", "-2025-04-14-pro",
            "-2025_04_14", "-2025-4-14", "-12345678", "-1234567890",
        ];
        string[] prefixes = ["", "", "", "openai/", "azure/openai/", "x-", "chat"];
        int seed = Environment.TickCount;
        var random = new Random(seed);
        int priced = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var name = random.Next(5) == 0 ? RandomId(random) : names[random.Next(names.Length)];
            if (random.Next(3) == 0)
            {
                name = name.ToUpperInvariant();
            }

            var suffix = suffixes[random.Next(suffixes.Length)];
            if (random.Next(4) == 0)
            {
                suffix += suffixes[random.Next(suffixes.Length)];
            }

            var id = prefixes[random.Next(prefixes.Length)] + name + suffix;
            var expected = ExpectedPrice(catalog, id);
            catalog.TryGetPrice(id, out var pricing).Should().Be(expected is not null, $"'{id}' (seed {seed})");
            pricing.Should().BeSameAs(expected, $"'{id}' (seed {seed})");
            priced += expected is null ? 0 : 1;
        }

        priced.Should().BeGreaterThan(1000, "the test draws listed ids and their dated snapshots too");
    }

    [Fact]
    public void Aliases_load_from_json_must_name_a_listed_model_and_survive_overrides()
    {
        using var json = new MemoryStream("""{ "models": { "house-7b": { "inputPerMillion": 1, "outputPerMillion": 2 } }, "aliases": { "house-latest": "house-7b" } }"""u8.ToArray());
        var catalog = ModelCatalog.Load(json);
        catalog.TryGetPrice("house-latest", out var alias).Should().BeTrue();
        alias.Should().BeSameAs(catalog.Prices["house-7b"]);
        catalog.TryGetPrice("house-latest-2025-01-02", out _).Should().BeTrue();
        catalog.TryGetPrice("house", out _).Should().BeFalse();

        var overridden = catalog.With([KeyValuePair.Create("house-7b", new ModelCatalogEntry { InputPerMillion = 0.5m, OutputPerMillion = 1m })]);
        overridden.TryGetPrice("house-latest", out var after).Should().BeTrue();
        after.Should().Be(new RoutePricing(0.5m, 1m), "an alias follows the price of the model it names");

        using var dangling = new MemoryStream("""{ "models": { }, "aliases": { "house-latest": "house-7b" } }"""u8.ToArray());
        FluentActions.Invoking(() => ModelCatalog.Load(dangling)).Should().Throw<ArgumentException>().WithMessage("*alias 'house-latest' names model 'house-7b'*does not list*");
    }

    // The rule, stated independently of the implementation: the id (or the part after its last '/') is listed, or it is a listed id
    // followed by -YYYY-MM-DD or -YYYYMMDD with a real month and day.
    private static RoutePricing? ExpectedPrice(ModelCatalog catalog, string id)
    {
        var bare = id[(id.LastIndexOf('/') + 1)..];
        if ((Resolve(catalog, id) ?? Resolve(catalog, bare)) is { } direct)
        {
            return direct;
        }

        var dated = System.Text.RegularExpressions.Regex.Match(bare, @"^(?<base>.+)-(?<y>[12]\d{3})-?(?<m>\d{2})-?(?<d>\d{2})$");
        bool separatorsConsistent = dated.Success && (bare.Length - dated.Groups["base"].Length) is 11 or 9 &&
            (bare.Length - dated.Groups["base"].Length == 9 || (bare[^6] == '-' && bare[^3] == '-'));
        return separatorsConsistent && int.Parse(dated.Groups["m"].Value) is >= 1 and <= 12 && int.Parse(dated.Groups["d"].Value) is >= 1 and <= 31
            ? Resolve(catalog, dated.Groups["base"].Value)
            : null;
    }

    private static RoutePricing? Resolve(ModelCatalog catalog, string id)
    {
        var listed = catalog.Prices.FirstOrDefault(p => string.Equals(p.Key, id, StringComparison.OrdinalIgnoreCase));
        if (listed.Value is not null)
        {
            return listed.Value;
        }

        var alias = catalog.Aliases.FirstOrDefault(a => string.Equals(a.Key, id, StringComparison.OrdinalIgnoreCase));
        return alias.Value is null ? null : catalog.Prices.First(p => string.Equals(p.Key, alias.Value, StringComparison.OrdinalIgnoreCase)).Value;
    }

    private static string RandomId(Random random)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-.";
        var chars = new char[random.Next(1, 12)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[random.Next(Alphabet.Length)];
        }

        return new string(chars);
    }
}
