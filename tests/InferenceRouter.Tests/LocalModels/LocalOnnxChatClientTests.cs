using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.LocalModels;

/// <summary>The real ONNX Runtime GenAI model from ../shared (random weights: these tests check plumbing, never the text).</summary>
[Collection(LocalModelCollection.Name)]
public class LocalOnnxChatClientTests(LocalModelFixture fixture)
{
    private const string Model = "models/tiny-gpt2-genai";

    [SharedFact(Model)]
    public async Task Answers_with_usage_and_respects_the_output_limit()
    {
        var response = await fixture.Client.GetResponseAsync(Prompt("Hello there"), new ChatOptions { MaxOutputTokens = 12, Temperature = 0 });

        response.ModelId.Should().Be("tiny-gpt2-genai");
        response.Usage!.InputTokenCount.Should().BeGreaterThan(0);
        response.Usage.OutputTokenCount.Should().BeInRange(1, 12);
        response.Usage.TotalTokenCount.Should().Be(response.Usage.InputTokenCount + response.Usage.OutputTokenCount);
        if (response.Usage.OutputTokenCount == 12)
        {
            response.FinishReason.Should().Be(ChatFinishReason.Length);
        }
    }

    [SharedFact(Model)]
    public async Task Streams_tokens_and_ends_with_a_usage_update()
    {
        var updates = await fixture.Client.GetStreamingResponseAsync(Prompt("Tell me something"), new ChatOptions { MaxOutputTokens = 30, Temperature = 0 }).ToListAsync();

        updates.Count.Should().BeGreaterThan(2);
        var usage = updates[^1].Contents.OfType<UsageContent>().Single().Details;
        usage.OutputTokenCount.Should().BeInRange(1, 30);
        updates.Take(updates.Count - 1).Should().OnlyContain(u => u.Text.Length > 0 && u.ModelId == "tiny-gpt2-genai");
        var whole = updates.ToChatResponse();
        whole.Text.Should().Be(string.Concat(updates.Select(u => u.Text)));
    }

    [SharedFact(Model)]
    public async Task Greedy_decoding_is_deterministic_and_a_seed_makes_sampling_repeatable()
    {
        var greedy = new ChatOptions { MaxOutputTokens = 20, Temperature = 0 };
        var first = await fixture.Client.GetResponseAsync(Prompt("Same prompt"), greedy);
        var second = await fixture.Client.GetResponseAsync(Prompt("Same prompt"), greedy);
        second.Text.Should().Be(first.Text);

        var sampled = new ChatOptions { MaxOutputTokens = 20, Temperature = 1.5f, TopK = 50, Seed = 7 };
        var a = await fixture.Client.GetResponseAsync(Prompt("Same prompt"), sampled);
        var b = await fixture.Client.GetResponseAsync(Prompt("Same prompt"), sampled);
        b.Text.Should().Be(a.Text);
    }

    [SharedFact(Model)]
    public async Task A_stop_sequence_ends_the_answer_before_it_even_across_tokens()
    {
        var baseline = await fixture.Client.GetResponseAsync(Prompt("Stop test"), new ChatOptions { MaxOutputTokens = 40, Temperature = 0 });
        var text = baseline.Text;
        text.Length.Should().BeGreaterThan(10);
        var stop = text.Substring(text.Length / 2, 3); // likely spans a token boundary

        var stopped = await fixture.Client.GetResponseAsync(Prompt("Stop test"), new ChatOptions { MaxOutputTokens = 40, Temperature = 0, StopSequences = [stop] });

        stopped.Text.Should().Be(text[..text.IndexOf(stop, StringComparison.Ordinal)]);
        stopped.FinishReason.Should().Be(ChatFinishReason.Stop);
    }

    [SharedFact(Model)]
    public async Task Cancellation_stops_generation_between_tokens()
    {
        using var cancellation = new CancellationTokenSource();
        int received = 0;
        var act = async () =>
        {
            await foreach (var update in fixture.Client.GetStreamingResponseAsync(Prompt("Go on"), new ChatOptions { MaxOutputTokens = 400, Temperature = 0 }, cancellation.Token))
            {
                if (++received == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        };

        await act.Should().ThrowAsync<OperationCanceledException>();
        received.Should().Be(3);
        var next = await fixture.Client.GetResponseAsync(Prompt("Still alive?"), new ChatOptions { MaxOutputTokens = 5 });
        next.Usage!.OutputTokenCount.Should().BeGreaterThan(0, "the generation slot was given back");
    }

    [SharedFact(Model)]
    public async Task Sixteen_parallel_calls_all_finish_through_bounded_generators()
    {
        using var client = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = SharedFiles.TinyModel, MaxConcurrentGenerations = 3 });
        var calls = Enumerable.Range(0, 16).Select(i => i % 2 == 0
            ? client.GetResponseAsync(Prompt("Parallel " + i), new ChatOptions { MaxOutputTokens = 25, Temperature = 0 })
            : client.GetStreamingResponseAsync(Prompt("Parallel " + i), new ChatOptions { MaxOutputTokens = 25, Temperature = 0 }).ToChatResponseAsync());

        var responses = await Task.WhenAll(calls);

        responses.Should().OnlyContain(r => r.Usage!.OutputTokenCount > 0 && r.Usage.OutputTokenCount <= 25);
        responses[2].Text.Should().Be((await client.GetResponseAsync(Prompt("Parallel 2"), new ChatOptions { MaxOutputTokens = 25, Temperature = 0 })).Text, "parallel runs do not disturb each other");
    }

    [SharedFact(Model)]
    public async Task No_more_than_MaxConcurrentGenerations_run_at_once_and_the_others_wait_their_turn()
    {
        using var client = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = SharedFiles.TinyModel, MaxConcurrentGenerations = 3 });
        using var stop = new CancellationTokenSource();
        var streams = Enumerable.Range(0, 6)
            .Select(i => client.GetStreamingResponseAsync(Prompt("Hold " + i), new ChatOptions { MaxOutputTokens = 200 }, stop.Token).GetAsyncEnumerator())
            .ToList();
        var firsts = new List<Task<bool>>();
        try
        {
            // Each stream is held open after its first update, keeping its generator.
            firsts.AddRange(streams.Select(s => s.MoveNextAsync().AsTask()));
            await Eventually.TrueAsync(() => firsts.Count(t => t.IsCompleted) >= 3, "three generations start");
            await Task.Delay(300);
            firsts.Count(t => t.IsCompleted).Should().Be(3, "the other three wait for a generator (an unbounded client would start all six)");

            await streams[firsts.FindIndex(t => t.IsCompleted)].DisposeAsync();
            await Eventually.TrueAsync(() => firsts.Count(t => t.IsCompleted) == 4, "a finished stream hands its generator to a waiting one");
        }
        finally
        {
            // Waiting streams are cancelled (an iterator cannot be disposed while a step is pending), then all are disposed.
            await stop.CancelAsync();
            foreach (var (stream, first) in streams.Zip(firsts))
            {
                try
                {
                    await first;
                }
                catch (OperationCanceledException)
                {
                    // It was waiting for a generator.
                }

                await stream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_missing_folder_fails_clearly_and_again_only_after_the_retry_interval()
    {
        using var client = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = "/nonexistent/phi-3", LoadRetryInterval = TimeSpan.FromHours(1) });

        var error = (await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt())).Should().ThrowAsync<LocalModelLoadException>()).Which;
        error.Message.Should().Contain("'/nonexistent/phi-3' does not exist").And.Contain("genai_config.json");
        error.RetryAfter.Should().Be(TimeSpan.FromHours(1));
        (await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt())).Should().ThrowAsync<LocalModelLoadException>()).Which.Should().BeSameAs(error);
    }

    [SharedFact(Model)]
    public async Task A_corrupt_model_or_a_missing_provider_names_the_problem_and_the_package()
    {
        var corrupt = Directory.CreateTempSubdirectory("corrupt-model");
        try
        {
            foreach (var file in Directory.GetFiles(SharedFiles.TinyModel))
            {
                File.Copy(file, Path.Combine(corrupt.FullName, Path.GetFileName(file)));
            }

            File.WriteAllBytes(Path.Combine(corrupt.FullName, "past.onnx"), [1, 2, 3, 4]);
            using var broken = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = corrupt.FullName });
            (await FluentActions.Awaiting(() => broken.WarmUpAsync()).Should().ThrowAsync<LocalModelLoadException>())
                .WithMessage("*could not be loaded*complete ONNX Runtime GenAI model*");
        }
        finally
        {
            corrupt.Delete(recursive: true);
        }

        using var directML = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = SharedFiles.TinyModel, Provider = LocalExecutionProvider.DirectML });
        (await FluentActions.Awaiting(() => directML.WarmUpAsync()).Should().ThrowAsync<LocalModelLoadException>())
            .WithMessage("*DirectML*Microsoft.ML.OnnxRuntimeGenAI.DirectML*instead of Microsoft.ML.OnnxRuntimeGenAI*");
        using var cuda = new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = SharedFiles.TinyModel, Provider = LocalExecutionProvider.Cuda });
        (await FluentActions.Awaiting(() => cuda.GetResponseAsync(Prompt())).Should().ThrowAsync<LocalModelLoadException>())
            .WithMessage("*CUDA*Microsoft.ML.OnnxRuntimeGenAI.Cuda*");
    }

    [SharedFact(Model)]
    public async Task A_custom_prompt_formatter_replaces_the_chat_template()
    {
        int calls = 0;
        using var client = new LocalOnnxChatClient(new LocalOnnxOptions
        {
            ModelPath = SharedFiles.TinyModel,
            PromptFormatter = (messages, options) =>
            {
                Interlocked.Increment(ref calls);
                return LocalPromptFormatter.Format(messages, options);
            },
        });

        var response = await client.GetResponseAsync(Prompt("Hi"), new ChatOptions { MaxOutputTokens = 3, Instructions = "Be brief." });

        calls.Should().Be(1);
        response.Usage!.OutputTokenCount.Should().BeInRange(1, 3);
        LocalPromptFormatter.Format([new ChatMessage(ChatRole.User, "Hi"), new ChatMessage(ChatRole.Assistant, "Hello")], new ChatOptions { Instructions = "Be brief." })
            .Should().Be("System: Be brief.\n\nUser: Hi\n\nAssistant: Hello\n\nAssistant:");
    }

    [Fact]
    public void Bad_options_are_refused_naming_the_setting()
    {
        FluentActions.Invoking(() => new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = "", MaxConcurrentGenerations = 0 }))
            .Should().Throw<ArgumentException>().WithMessage("*ModelPath is empty*MaxConcurrentGenerations is 0*");
    }
}

/// <summary>One loaded model shared by the tests (loading takes a moment; the model is thread-safe).</summary>
public sealed class LocalModelFixture : IDisposable
{
    private readonly Lazy<LocalOnnxChatClient> _client = new(() => new LocalOnnxChatClient(new LocalOnnxOptions { ModelPath = SharedFiles.TinyModel, MaxConcurrentGenerations = 2 }));

    public LocalOnnxChatClient Client => _client.Value;

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }
}

// CPU-heavy (ONNX Runtime uses every core): run alone, so timing-sensitive loopback tests never starve.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LocalModelCollection : ICollectionFixture<LocalModelFixture>
{
    public const string Name = "local model";
}
