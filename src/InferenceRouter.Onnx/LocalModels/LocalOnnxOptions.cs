using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>Options of a <see cref="LocalOnnxChatClient"/>; bound from <c>InferenceRouter:LocalModels:{name}</c> by the DI helpers.</summary>
public sealed class LocalOnnxOptions
{
    /// <summary>Gets or sets the model folder in ONNX Runtime GenAI layout: <c>genai_config.json</c>, the <c>.onnx</c> files it names, tokenizer files.</summary>
    public string ModelPath { get; set; } = string.Empty;

    /// <summary>Gets or sets the model id reported in responses and used for budgets; the folder's name by default.</summary>
    public string? ModelId { get; set; }

    /// <summary>Gets or sets where the model runs.</summary>
    public LocalExecutionProvider Provider { get; set; } = LocalExecutionProvider.Cpu;

    /// <summary>
    /// Gets or sets how many generations may run at once; further calls wait for a free one. Each generator holds its own key/value cache
    /// (2 × layers × KV heads × head size × (prompt + output tokens) × bytes per value), so memory grows with this number.
    /// </summary>
    public int MaxConcurrentGenerations { get; set; } = 1;

    /// <summary>Gets or sets the output limit for calls that set none (<see cref="ChatOptions.MaxOutputTokens"/>); the model's context bounds it too.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 512;

    /// <summary>Gets stop sequences applied to every call, in addition to the call's own.</summary>
    public List<string> StopSequences { get; } = [];

    /// <summary>Gets or sets a formatter turning messages into the model's prompt; by default the model's chat template, or <see cref="LocalPromptFormatter.Format"/> when it has none.</summary>
    public Func<IEnumerable<ChatMessage>, ChatOptions?, string>? PromptFormatter { get; set; }

    /// <summary>Gets or sets a value indicating whether DI loads the model when the host starts rather than on the first call.</summary>
    public bool WarmUpOnStart { get; set; }

    /// <summary>Gets or sets how long a failed load is remembered before the next call tries again (the router skips the route meanwhile).</summary>
    public TimeSpan LoadRetryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Lists what is wrong with the options, each with the fix.</summary>
    /// <param name="path">Where the options sit, for messages.</param>
    /// <returns>The problems; empty when valid.</returns>
    internal IEnumerable<string> GetValidationErrors(string path)
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            yield return $"{path}:ModelPath is empty; name the folder of an ONNX Runtime GenAI model (with genai_config.json).";
        }

        if (!Enum.IsDefined(Provider))
        {
            yield return $"{path}:Provider is {Provider}; use Cpu, DirectML or Cuda.";
        }

        if (MaxConcurrentGenerations < 1)
        {
            yield return $"{path}:MaxConcurrentGenerations is {MaxConcurrentGenerations}; allow at least 1.";
        }

        if (DefaultMaxOutputTokens < 1)
        {
            yield return $"{path}:DefaultMaxOutputTokens is {DefaultMaxOutputTokens}; give a positive number of tokens.";
        }

        if (LoadRetryInterval < TimeSpan.Zero)
        {
            yield return $"{path}:LoadRetryInterval is {LoadRetryInterval}; give zero or a positive time span.";
        }
    }
}
