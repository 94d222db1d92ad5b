using System.Text.Json.Serialization;
using OllamaSharp.Models.Chat;

namespace InferenceRouter;

/// <summary>Writes an Ollama chat request as OllamaSharp sends it, to measure what a raw request carries (OllamaSharp's own context is internal).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatRequest))]
internal sealed partial class OllamaRequestJsonContext : JsonSerializerContext;
