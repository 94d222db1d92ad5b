using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// A call's tokens split into the parts providers price apart, each counted once: uncached text input, cached input, cache writes, audio
/// input; text output, reasoning, audio output. Where a usage does not split its tokens, the split is the one dearest at the route's prices,
/// so a charge from it is never below what the provider bills.
/// </summary>
internal readonly record struct BilledTokens(long Input, long CachedInput, long CacheWrite, long AudioInput, long Output, long Reasoning, long AudioOutput)
{
    /// <summary>The Anthropic SDK's key (in <see cref="UsageDetails.AdditionalCounts"/>) for the prompt tokens written to the cache (<c>cache_creation_input_tokens</c>).</summary>
    public const string CacheWriteKey = "CacheCreationInputTokens";

    /// <summary>M.E.AI's OpenAI adapter's key for the audio prompt tokens (<c>prompt_tokens_details.audio_tokens</c>).</summary>
    public const string AudioInputKey = "InputTokenDetails.AudioTokenCount";

    /// <summary>M.E.AI's OpenAI adapter's key for the audio output tokens (<c>completion_tokens_details.audio_tokens</c>).</summary>
    public const string AudioOutputKey = "OutputTokenDetails.AudioTokenCount";

    /// <summary>
    /// Splits <paramref name="input"/> prompt tokens (every one: cached, written to the cache and audio included, as M.E.AI's adapters report
    /// them) and <paramref name="output"/> output tokens by what <paramref name="usage"/> says, for <paramref name="pricing"/> (the tier the
    /// call is billed at); counts that disagree are clamped into what remains. Audio is split out only where it has a price of its own (else
    /// it is billed as text, cached audio as cached text). Reported audio is charged in full at the audio price (a cached audio token is
    /// billed at most that), and the cached tokens are taken from the audio first unless cached tokens cost more than uncached ones. When
    /// the usage does not count audio in a prompt that holds some (<paramref name="promptHasAudio"/>), each token of unknown kind is charged
    /// at the dearer of its kinds: an uncached one as audio or text, a cached one as audio or cached text.
    /// </summary>
    public static BilledTokens Split(UsageDetails? usage, long input, long output, bool readDetails, bool promptHasAudio, RoutePricing pricing)
    {
        input = Math.Max(input, 0);
        output = Math.Max(output, 0);
        long writes = 0, audioOutput = 0;
        long? reportedAudio = null;
        if (readDetails && usage is not null)
        {
            var counts = usage.AdditionalCounts;
            writes = Math.Clamp(Count(counts, CacheWriteKey) ?? 0, 0, input);
            reportedAudio = usage.InputAudioTokenCount ?? Count(counts, AudioInputKey);
            audioOutput = usage.OutputAudioTokenCount ?? Count(counts, AudioOutputKey) ?? 0;
        }

        long cached = Math.Clamp(usage?.CachedInputTokenCount ?? 0, 0, input - writes);
        decimal audioPrice = pricing.EffectiveAudioInputPerMillion, cachedPrice = pricing.EffectiveCachedInputPerMillion;
        bool audioPriced = pricing.AudioInputPerMillion is not null;
        long audio, cachedText;
        if (audioPriced && reportedAudio is { } reported)
        {
            audio = Math.Clamp(reported, 0, input - writes);
            cachedText = Math.Clamp(cachedPrice > pricing.InputPerMillion ? cached : cached - audio, 0, input - writes - audio);
        }
        else if (audioPriced && promptHasAudio)
        {
            audio = (audioPrice > pricing.InputPerMillion ? input - writes - cached : 0) + (audioPrice > cachedPrice ? cached : 0);
            cachedText = audioPrice > cachedPrice ? 0 : cached;
        }
        else
        {
            audio = 0;
            cachedText = cached;
        }

        long reasoning = Math.Clamp(usage?.ReasoningTokenCount ?? 0, 0, output);
        audioOutput = Math.Clamp(audioOutput, 0, output - reasoning);
        return new(input - writes - audio - cachedText, cachedText, writes, audio, output - reasoning - audioOutput, reasoning, audioOutput);
    }

    private static long? Count(AdditionalPropertiesDictionary<long>? counts, string key) =>
        counts is not null && counts.TryGetValue(key, out long value) ? value : null;
}
