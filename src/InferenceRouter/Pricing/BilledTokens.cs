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
    /// them) and <paramref name="output"/> output tokens by what <paramref name="usage"/> says. Counts that disagree are clamped into what
    /// remains. Audio a usage does not count, in a prompt that holds audio (<paramref name="promptHasAudio"/>), is all the input but the cache
    /// writes (and but the cached tokens, when the cached price is above the audio one: <paramref name="cachedOverAudio"/>). Reported audio is
    /// charged in full at the audio price (a cached audio token is billed less); the cached tokens a usage does not assign to text or audio
    /// are taken from the audio first, unless cached tokens cost more than uncached ones (<paramref name="cachedDearer"/>).
    /// </summary>
    public static BilledTokens Split(UsageDetails? usage, long input, long output, bool readDetails, bool promptHasAudio, bool cachedDearer, bool cachedOverAudio)
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
        long audio = reportedAudio is { } reported ? Math.Clamp(reported, 0, input - writes)
            : promptHasAudio ? input - writes - (cachedOverAudio ? cached : 0) // every token of unknown kind at the dearer of its kinds
            : 0;
        long text = input - writes - audio;
        long cachedText = Math.Clamp(cachedDearer ? cached : cached - audio, 0, text);
        long reasoning = Math.Clamp(usage?.ReasoningTokenCount ?? 0, 0, output);
        audioOutput = Math.Clamp(audioOutput, 0, output - reasoning);
        return new(text - cachedText, cachedText, writes, audio, output - reasoning - audioOutput, reasoning, audioOutput);
    }

    private static long? Count(AdditionalPropertiesDictionary<long>? counts, string key) =>
        counts is not null && counts.TryGetValue(key, out long value) ? value : null;
}
