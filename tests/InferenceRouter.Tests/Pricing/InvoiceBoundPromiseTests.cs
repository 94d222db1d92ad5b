namespace InferenceRouter.Tests.Pricing;

/// <summary>
/// The finance-team promise at the level of one call's price, for the class: whatever the prices (cache reads and writes, audio,
/// reasoning, a long-context tier, whole units or not), whatever the true mix of tokens and however much of it the usage reports, the
/// charge is never below the provider's invoice, and what was reserved for the call's bounds is never below the charge.
/// </summary>
public class InvoiceBoundPromiseTests
{
    private const int Calls = 20_000;

    [Fact]
    public void Every_charge_is_at_least_the_invoice_and_every_reservation_at_least_the_charge()
    {
        var random = new Random(2121);
        int tiered = 0, audioUnreported = 0, decimalPath = 0;
        for (int i = 0; i < Calls; i++)
        {
            var pricing = RandomPricing(random);
            var bill = TrueBill.Random(random, pricing);
            var (usage, promptHasAudio) = bill.AsReported(random);
            var price = new RoutePrice("r", "m", pricing, TokenCounters.UpperBound);

            var cost = price.Price(usage, promptTokens: 0, countedOutputTokens: 0, "USD", promptHasAudio);
            decimal invoice = bill.Invoice(pricing);
            cost.Amount.Should().BeGreaterThanOrEqualTo(invoice, $"call {i}: the ledger is never below the invoice ({pricing}; {bill}; reported {Describe(usage)}, audio in prompt {promptHasAudio})");

            long promptBound = bill.Prompt + random.Next(0, 3) * random.Next(0, 50_000);
            long outputBound = bill.OutputTotal + random.Next(0, 3) * random.Next(0, 5_000);
            decimal reserved = price.Reserve(promptBound, promptHasAudio, outputBound);
            reserved.Should().BeGreaterThanOrEqualTo(cost.Amount, $"call {i}: what was reserved for the call's bounds covers its charge ({pricing}; {bill}; bounds {promptBound}/{outputBound})");

            tiered += pricing.LongContext is { } tier && bill.Prompt > tier.AbovePromptTokens ? 1 : 0;
            audioUnreported += promptHasAudio && usage.InputAudioTokenCount is null && usage.AdditionalCounts?.ContainsKey("InputTokenDetails.AudioTokenCount") != true ? 1 : 0;
            decimalPath += price.UnitPrices is null ? 1 : 0;
        }

        // The classes the promise is about were all exercised.
        tiered.Should().BeGreaterThan(Calls / 20);
        audioUnreported.Should().BeGreaterThan(Calls / 20);
        decimalPath.Should().BeGreaterThan(Calls / 20);
    }

    private static RoutePricing RandomPricing(Random random, bool allowTier = true)
    {
        var input = Price(random);
        var pricing = new RoutePricing(input, Price(random), Maybe(random), Maybe(random))
        {
            CacheWritePerMillion = Maybe(random),
            CacheWriteOneHourPerMillion = Maybe(random),
            AudioInputPerMillion = Maybe(random),
            AudioOutputPerMillion = Maybe(random),
        };
        return allowTier && random.Next(2) == 0
            ? pricing with { LongContext = new LongContextPricing(random.Next(1, 400_000), RandomPricing(random, allowTier: false)) }
            : pricing;
    }

    // Whole units per token most of the time (list prices), sometimes a price with more decimals (the decimal path).
    private static decimal Price(Random random) => (random.Next(0, 1_000_000) / 10_000m) + (random.Next(10) == 0 ? 0.0000001m * random.Next(1, 9) : 0m);

    private static decimal? Maybe(Random random) => random.Next(3) == 0 ? null : Price(random);

    private static string Describe(UsageDetails usage) =>
        $"in {usage.InputTokenCount}, cached {usage.CachedInputTokenCount}, audio {usage.InputAudioTokenCount}, out {usage.OutputTokenCount}, reasoning {usage.ReasoningTokenCount}, audio out {usage.OutputAudioTokenCount}, counts [{string.Join(", ", usage.AdditionalCounts ?? [])}]";

    /// <summary>What the provider really billed: every kind of token apart, as its invoice prices them.</summary>
    private sealed record TrueBill(
        long Text, long CachedText, long AudioUncached, long CachedAudio, decimal CachedAudioPrice, long Write5m, long Write1h,
        long OutputText, long Reasoning, long AudioOutput)
    {
        public long Prompt => Text + CachedText + AudioUncached + CachedAudio + Write5m + Write1h;

        public long OutputTotal => OutputText + Reasoning + AudioOutput;

        public static TrueBill Random(Random random, RoutePricing pricing)
        {
            long Part(int most) => random.Next(3) == 0 ? 0 : random.Next(0, most);
            bool audio = random.Next(2) == 0, anthropicCache = !audio && random.Next(2) == 0;

            // A cached audio token is billed at most the audio price (the one assumption about prices the library makes; see Invoice).
            decimal audioPrice = Math.Max(pricing.EffectiveAudioInputPerMillion, pricing.LongContext?.Pricing.EffectiveAudioInputPerMillion ?? 0m);
            return new TrueBill(
                Part(150_000), Part(150_000), audio ? Part(120_000) : 0, audio ? Part(20_000) : 0, audioPrice * (decimal)random.NextDouble(),
                anthropicCache ? Part(150_000) : 0, anthropicCache ? Part(150_000) : 0, Part(8_000), Part(8_000), audio ? Part(4_000) : 0);
        }

        /// <summary>The provider's invoice, priced independently of the library: the tier by the true prompt, each kind at its own price.</summary>
        public decimal Invoice(RoutePricing pricing)
        {
            var p = pricing.LongContext is { } tier && Prompt > tier.AbovePromptTokens ? tier.Pricing : pricing;
            decimal input = p.InputPerMillion, output = p.OutputPerMillion;
            decimal write5m = p.CacheWritePerMillion ?? input;
            decimal write1h = p.CacheWriteOneHourPerMillion ?? write5m;
            // An audio price of its own bounds what a cached audio token costs; without one, audio is billed as text (cached as cached text).
            decimal cachedAudio = p.AudioInputPerMillion is { } audio ? Math.Min(CachedAudioPrice, audio) : p.CachedInputPerMillion ?? input;
            return ((Text * input) + (CachedText * (p.CachedInputPerMillion ?? input)) + (AudioUncached * (p.AudioInputPerMillion ?? input)) +
                    (CachedAudio * cachedAudio) + (Write5m * write5m) + (Write1h * write1h) + (OutputText * output) +
                    (Reasoning * (p.ReasoningPerMillion ?? output)) + (AudioOutput * (p.AudioOutputPerMillion ?? output))) / 1_000_000m;
        }

        /// <summary>
        /// The usage as an adapter reports it (Anthropic's cache writes as one count, audio split out two ways or not at all), and whether
        /// the prompt's media walk saw audio: always when the bill has audio (a prompt with audio holds an audio item).
        /// </summary>
        public (UsageDetails Usage, bool PromptHasAudio) AsReported(Random random)
        {
            long audio = AudioUncached + CachedAudio;
            var usage = new UsageDetails
            {
                InputTokenCount = Prompt,
                CachedInputTokenCount = CachedText + CachedAudio,
                OutputTokenCount = OutputTotal,
                ReasoningTokenCount = Reasoning,
                OutputAudioTokenCount = AudioOutput > 0 ? AudioOutput : null,
            };
            if (Write5m + Write1h > 0)
            {
                usage.AdditionalCounts = new() { ["CacheCreationInputTokens"] = Write5m + Write1h };
            }

            switch (random.Next(3))
            {
                case 0:
                    usage.InputAudioTokenCount = audio; // M.E.AI's own field
                    return (usage, audio > 0);
                case 1:
                    (usage.AdditionalCounts ??= [])["InputTokenDetails.AudioTokenCount"] = audio; // M.E.AI's OpenAI adapter's key
                    return (usage, audio > 0);
                default:
                    return (usage, audio > 0 || random.Next(4) == 0); // no breakdown; a prompt may also hold a file of unknown kind
            }
        }
    }
}
