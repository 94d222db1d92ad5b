using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace InferenceRouter.Benchmarks;

/// <summary>
/// Tokens per second through <see cref="LocalOnnxChatClient"/> (streaming) against the raw ONNX Runtime GenAI generator loop on the same
/// model, prompt and greedy decoding. Needs ../shared/models/tiny-gpt2-genai (or INFERENCEROUTER_SHARED).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class LocalModelBenchmarks
{
    private const int OutputTokens = 200;
    private const string Prompt = "Tell me a long story about a lighthouse keeper.";
    private Model _model = null!;
    private Tokenizer _tokenizer = null!;
    private LocalOnnxChatClient _client = null!;
    private List<ChatMessage> _messages = null!;
    private ChatOptions _options = null!;
    private string _formatted = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var path = SharedModel.Path("tiny-gpt2-genai");
        _model = new Model(path);
        _tokenizer = new Tokenizer(_model);
        _client = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = path });
        _messages = [new ChatMessage(ChatRole.User, Prompt)];
        _options = new ChatOptions { MaxOutputTokens = OutputTokens, Temperature = 0 };
        _formatted = _tokenizer.ApplyChatTemplate(null, $$"""[{"role":"user","content":"{{Prompt}}"}]""", null, true);
        int raw = RawLoop();
        int routed = await LocalClientStream();
        if (raw != routed)
        {
            throw new InvalidOperationException($"The raw loop produced {raw} tokens and the client {routed}; the comparison needs equal work.");
        }

        Console.WriteLine($"// both produce {raw} tokens per call");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _tokenizer.Dispose();
        _model.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw GenAI generator loop")]
    public int RawLoop()
    {
        using var sequences = _tokenizer.Encode(_formatted);
        using var parameters = new GeneratorParams(_model);
        parameters.SetSearchOption("max_length", sequences[0].Length + OutputTokens);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(_model, parameters);
        generator.AppendTokenSequences(sequences);
        using var stream = _tokenizer.CreateStream();
        int count = 0;
        while (count < OutputTokens && !generator.IsDone())
        {
            generator.GenerateNextToken();
            _ = stream.Decode(generator.GetNextTokens()[0]);
            count++;
        }

        return count;
    }

    [Benchmark(Description = "LocalOnnxChatClient stream")]
    public async Task<int> LocalClientStream()
    {
        int tokens = 0;
        await foreach (var update in _client.GetStreamingResponseAsync(_messages, _options).ConfigureAwait(false))
        {
            foreach (var content in update.Contents)
            {
                if (content is UsageContent usage)
                {
                    tokens = (int)usage.Details.OutputTokenCount!.Value;
                }
            }
        }

        return tokens;
    }
}
