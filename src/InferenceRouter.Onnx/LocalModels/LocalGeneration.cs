using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace InferenceRouter;

/// <summary>One call's generation: the generator, its output limit, sampling, stop sequences and token counts. Not thread-safe.</summary>
internal sealed class LocalGeneration : IDisposable
{
    private readonly Generator _generator;
    private readonly TokenizerStream _decoder;
    private readonly StopSequenceMatcher? _stops;
    private bool _finished;

    public LocalGeneration(LocalModel model, string prompt, ChatOptions? options, LocalOnnxOptions defaults)
    {
        using var sequences = model.Tokenizer.Encode(prompt);
        InputTokens = sequences[0].Length;
        int context = model.ContextLength ?? int.MaxValue;
        if (InputTokens >= context)
        {
            throw new ArgumentException($"The prompt has {InputTokens} tokens; the local model's context holds {context} (prompt and output together). Shorten the conversation.", nameof(prompt));
        }

        MaxOutputTokens = Math.Min(options?.MaxOutputTokens ?? defaults.DefaultMaxOutputTokens, context - InputTokens);
        using var parameters = new GeneratorParams(model.Model);

        // max_length also sizes the key/value cache: prompt plus this call's output, not the whole context.
        parameters.SetSearchOption("max_length", InputTokens + MaxOutputTokens);
        ApplySampling(parameters, options);
        _generator = new Generator(model.Model, parameters);
        try
        {
            _generator.AppendTokenSequences(sequences);
            _decoder = model.Tokenizer.CreateStream();
        }
        catch
        {
            _generator.Dispose();
            throw;
        }

        var stops = Merge(defaults.StopSequences, options?.StopSequences);
        _stops = stops is null ? null : new StopSequenceMatcher(stops);
    }

    public int InputTokens { get; }

    public int OutputTokens { get; private set; }

    public int MaxOutputTokens { get; }

    public ChatFinishReason FinishReason { get; private set; } = ChatFinishReason.Stop;

    /// <summary>Generates one token; returns its text (possibly empty), or null when generation is over.</summary>
    public string? Next()
    {
        if (_finished)
        {
            return null;
        }

        if (OutputTokens >= MaxOutputTokens || _generator.IsDone())
        {
            FinishReason = OutputTokens >= MaxOutputTokens ? ChatFinishReason.Length : ChatFinishReason.Stop;
            return Finish();
        }

        _generator.GenerateNextToken();
        OutputTokens++;
        var piece = _decoder.Decode(_generator.GetNextTokens()[0]);
        if (_stops is null)
        {
            return piece;
        }

        var text = _stops.Push(piece);
        if (_stops.Stopped)
        {
            _finished = true;
            FinishReason = ChatFinishReason.Stop;
        }

        return text;
    }

    public void Dispose()
    {
        _decoder.Dispose();
        _generator.Dispose();
    }

    private string? Finish()
    {
        _finished = true;
        var rest = _stops?.Flush();
        return string.IsNullOrEmpty(rest) ? null : rest;
    }

    private static void ApplySampling(GeneratorParams parameters, ChatOptions? options)
    {
        if (options is null)
        {
            return;
        }

        bool sample = false;
        if (options.Temperature is { } temperature)
        {
            parameters.SetSearchOption("temperature", temperature);
            sample = temperature > 0;
        }

        if (options.TopP is { } topP)
        {
            parameters.SetSearchOption("top_p", topP);
            sample = true;
        }

        if (options.TopK is { } topK)
        {
            parameters.SetSearchOption("top_k", topK);
            sample = true;
        }

        if (options.FrequencyPenalty is { } penalty)
        {
            parameters.SetSearchOption("repetition_penalty", 1 + penalty);
        }

        if (options.Seed is { } seed)
        {
            parameters.SetSearchOption("random_seed", seed);
        }

        parameters.SetSearchOption("do_sample", sample);
    }

    private static List<string>? Merge(List<string> defaults, IList<string>? call)
    {
        if (defaults.Count == 0 && (call is null || call.Count == 0))
        {
            return null;
        }

        var stops = new List<string>(defaults);
        if (call is not null)
        {
            stops.AddRange(call);
        }

        stops.RemoveAll(string.IsNullOrEmpty);
        return stops.Count == 0 ? null : stops;
    }
}
