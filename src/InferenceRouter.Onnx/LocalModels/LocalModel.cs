using System.Text.Json;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace InferenceRouter;

/// <summary>A loaded ONNX Runtime GenAI model: the model, its tokenizer, its context length and whether it has a chat template.</summary>
internal sealed class LocalModel : IDisposable
{
    private const string ProbeConversation = """[{"role":"user","content":"hi"}]""";

    private readonly Config _config;

    private LocalModel(Config config, Model model, Tokenizer tokenizer, int? contextLength, bool hasChatTemplate)
    {
        _config = config;
        Model = model;
        Tokenizer = tokenizer;
        ContextLength = contextLength;
        HasChatTemplate = hasChatTemplate;
    }

    public Model Model { get; }

    public Tokenizer Tokenizer { get; }

    /// <summary>Gets the model's context length (prompt plus output tokens), from <c>genai_config.json</c>.</summary>
    public int? ContextLength { get; }

    public bool HasChatTemplate { get; }

    /// <summary>Reads <c>model.context_length</c> from the folder's <c>genai_config.json</c>, or null when it cannot.</summary>
    public static int? ReadContextLength(string modelPath)
    {
        var file = Path.Combine(modelPath, "genai_config.json");
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return document.RootElement.TryGetProperty("model", out var model) && model.TryGetProperty("context_length", out var length) && length.TryGetInt32(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Loads the model, translating every failure into a <see cref="LocalModelLoadException"/> that says what to do.</summary>
    public static LocalModel Load(LocalOnnxOptions options)
    {
        var path = Path.GetFullPath(options.ModelPath);
        var retry = options.LoadRetryInterval;
        if (!Directory.Exists(path))
        {
            throw new LocalModelLoadException(
                $"The local model folder '{path}' does not exist. Set ModelPath to a folder holding an ONNX Runtime GenAI model (genai_config.json, the model's .onnx files, tokenizer files); docs/local-fallback.md says how to get one.",
                path, retry);
        }

        if (!File.Exists(Path.Combine(path, "genai_config.json")))
        {
            throw new LocalModelLoadException(
                $"The folder '{path}' has no genai_config.json, so it is not an ONNX Runtime GenAI model. Export the model with onnxruntime-genai's model builder, or download one already in that format (docs/local-fallback.md).",
                path, retry);
        }

        Config? config = null;
        Model? model = null;
        try
        {
            config = new Config(path);
            config.ClearProviders();
            switch (options.Provider)
            {
                case LocalExecutionProvider.DirectML:
                    config.AppendProvider("dml");
                    break;
                case LocalExecutionProvider.Cuda:
                    config.AppendProvider("cuda");
                    break;
            }

            model = new Model(config);
            var tokenizer = new Tokenizer(model);
            return new LocalModel(config, model, tokenizer, ReadContextLength(path), HasTemplate(tokenizer));
        }
        catch (Exception e) when (e is OnnxRuntimeGenAIException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            model?.Dispose();
            config?.Dispose();
            throw new LocalModelLoadException(Describe(options.Provider, path, e), path, retry, e);
        }
    }

    public void Dispose()
    {
        Tokenizer.Dispose();
        Model.Dispose();
        _config.Dispose();
    }

    private static bool HasTemplate(Tokenizer tokenizer)
    {
        try
        {
            return tokenizer.ApplyChatTemplate(null, ProbeConversation, null, true).Length > 0;
        }
        catch (OnnxRuntimeGenAIException)
        {
            return false;
        }
    }

    private static string Describe(LocalExecutionProvider provider, string path, Exception error) => provider switch
    {
        LocalExecutionProvider.DirectML =>
            $"The DirectML execution provider could not be used for the model in '{path}' ({error.Message}). DirectML needs Windows and the " +
            "Microsoft.ML.OnnxRuntimeGenAI.DirectML package: reference it instead of Microsoft.ML.OnnxRuntimeGenAI, or set Provider to Cpu.",
        LocalExecutionProvider.Cuda =>
            $"The CUDA execution provider could not be used for the model in '{path}' ({error.Message}). CUDA needs an NVIDIA GPU, its driver and the " +
            "Microsoft.ML.OnnxRuntimeGenAI.Cuda package: reference it instead of Microsoft.ML.OnnxRuntimeGenAI, or set Provider to Cpu.",
        _ when error is DllNotFoundException or TypeInitializationException =>
            $"The ONNX Runtime GenAI native library could not be loaded ({error.Message}). Reference Microsoft.ML.OnnxRuntimeGenAI (CPU) and run on a platform it supports.",
        _ =>
            $"The model in '{path}' could not be loaded ({error.Message}). Check that the folder holds a complete ONNX Runtime GenAI model: genai_config.json, every .onnx (and .onnx.data) file it names, and the tokenizer files.",
    };
}
