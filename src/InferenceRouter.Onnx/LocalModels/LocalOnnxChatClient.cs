using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace InferenceRouter;

/// <summary>
/// An on-device <see cref="IChatClient"/> over ONNX Runtime GenAI: loads the model on first use (or <see cref="WarmUpAsync"/>), runs a bounded
/// number of generations at once, stops between tokens when cancelled, honours the output limit, stop sequences and sampling options,
/// and reports usage (in the response, and in the last streaming update).
/// </summary>
/// <remarks>
/// Register it as a route marked local (<c>AddLocalOnnxRoute</c>): the router tries it last, first when the app is offline, when a
/// budget downgrades to it or when a call must stay on the device. A model that cannot be loaded throws
/// <see cref="LocalModelLoadException"/>, which the router treats as the route being unavailable. Thread-safe.
/// </remarks>
public sealed class LocalOnnxChatClient : IChatClient
{
    private static readonly TimeSpan s_disposeTimeout = TimeSpan.FromSeconds(10);
    private readonly LocalOnnxOptions _options;
    private readonly SemaphoreSlim _generations;
    private readonly ILogger _logger;
    private readonly ChatClientMetadata _metadata;
    private readonly object _loadLock = new();
    private Task<LocalModel>? _loading;
    private long _retryLoadAt;
    private int _disposed;

    /// <summary>Creates the client; nothing is loaded until the first call or <see cref="WarmUpAsync"/>.</summary>
    /// <param name="options">The model folder, execution provider and limits; validated here.</param>
    /// <param name="loggerFactory">Logging; none by default.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public LocalOnnxChatClient(LocalOnnxOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.GetValidationErrors(nameof(LocalOnnxOptions)).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _options = options;
        _generations = new SemaphoreSlim(options.MaxConcurrentGenerations, options.MaxConcurrentGenerations);
        _logger = (ILogger?)loggerFactory?.CreateLogger<LocalOnnxChatClient>() ?? NullLogger.Instance;
        ModelId = options.ModelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelPath)));
        _metadata = new ChatClientMetadata("onnxruntime-genai", null, ModelId);
    }

    /// <summary>Gets the model id reported in responses.</summary>
    public string ModelId { get; }

    /// <summary>Gets the options.</summary>
    public LocalOnnxOptions Options => _options;

    /// <summary>Gets a value indicating whether the model is loaded.</summary>
    public bool IsLoaded => _loading is { IsCompletedSuccessfully: true };

    /// <summary>Gets the model's context length (prompt and output tokens), once loaded.</summary>
    public int? ContextLength => _loading is { IsCompletedSuccessfully: true } loading ? loading.Result.ContextLength : null;

    /// <summary>Loads the model now (on a thread-pool thread), so the first call does not wait for it.</summary>
    /// <param name="cancellationToken">Stops waiting (the load itself completes).</param>
    /// <returns>A task that completes when the model is loaded.</returns>
    /// <exception cref="LocalModelLoadException">The model cannot be loaded; the message says why and what to do.</exception>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default) => await LoadAsync().WaitAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return GenerateAsync(messages, options, cancellationToken);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Releases the model once every generation has ended (waiting up to 10 seconds); later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Take every generation slot so no generator still uses the model when it is freed. A stream abandoned without being
        // disposed holds its slot forever: then the native model is left to the process's end rather than freed under it.
        for (int i = 0; i < _options.MaxConcurrentGenerations; i++)
        {
            if (!_generations.Wait(s_disposeTimeout))
            {
                LocalOnnxLog.GenerationsStillRunning(_logger, ModelId, _options.MaxConcurrentGenerations - i);
                return;
            }
        }

        if (_loading is { IsCompletedSuccessfully: true } loading)
        {
            loading.Result.Dispose();
        }

        _generations.Dispose();
    }

    private async IAsyncEnumerable<ChatResponseUpdate> GenerateAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var model = await LoadAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var prompt = FormatPrompt(model, messages, options);
        await _generations.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

            // Prefill and generation run on the thread pool, never inline on the caller's thread: the call returns at once, so a
            // router can hedge, time out and fail over while the model works.
            await new ThreadPoolYield();
            cancellationToken.ThrowIfCancellationRequested();
            using var generation = new LocalGeneration(model, prompt, options, _options);
            string responseId = Guid.NewGuid().ToString("N");
            var created = DateTimeOffset.UtcNow;
            LocalOnnxLog.Generating(_logger, ModelId, generation.InputTokens, generation.MaxOutputTokens);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var piece = generation.Next();
                if (piece is null)
                {
                    break;
                }

                if (piece.Length > 0)
                {
                    yield return new ChatResponseUpdate(ChatRole.Assistant, piece) { ResponseId = responseId, MessageId = responseId, ModelId = ModelId, CreatedAt = created };
                }

                // A consumer with a synchronization context (a UI) must not run the model between its awaits; thread-pool
                // consumers carry on in place (a hop per token would cost a fast model a fifth of its speed).
                if (ThreadPoolYield.IsNeeded)
                {
                    await new ThreadPoolYield();
                }
            }

            yield return new ChatResponseUpdate
            {
                Role = ChatRole.Assistant,
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = ModelId,
                CreatedAt = created,
                FinishReason = generation.FinishReason,
                Contents = [new UsageContent(new UsageDetails
                {
                    InputTokenCount = generation.InputTokens,
                    OutputTokenCount = generation.OutputTokens,
                    TotalTokenCount = generation.InputTokens + generation.OutputTokens,
                })],
            };
        }
        finally
        {
            _generations.Release();
        }
    }

    private string FormatPrompt(LocalModel model, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        if (_options.PromptFormatter is { } formatter)
        {
            return formatter(messages, options);
        }

        if (!model.HasChatTemplate)
        {
            return LocalPromptFormatter.Format(messages, options);
        }

        return model.Tokenizer.ApplyChatTemplate(null, LocalChatTemplate.ToJson(messages, options), null, true);
    }

    /// <summary>Starts the load once; after a failure, remembers it for <see cref="LocalOnnxOptions.LoadRetryInterval"/>, then tries again.</summary>
    private Task<LocalModel> LoadAsync()
    {
        var loading = Volatile.Read(ref _loading);
        if (loading is { IsFaulted: false } || (loading is not null && Environment.TickCount64 < Volatile.Read(ref _retryLoadAt)))
        {
            return loading;
        }

        lock (_loadLock)
        {
            if (_loading is { IsFaulted: false } || (_loading is not null && Environment.TickCount64 < _retryLoadAt))
            {
                return _loading;
            }

            LocalOnnxLog.Loading(_logger, ModelId, _options.ModelPath, _options.Provider);
            _loading = Task.Run(() =>
            {
                try
                {
                    var started = Environment.TickCount64;
                    var model = LocalModel.Load(_options);
                    LocalOnnxLog.Loaded(_logger, ModelId, Environment.TickCount64 - started, model.ContextLength);
                    return model;
                }
                catch (LocalModelLoadException e)
                {
                    Volatile.Write(ref _retryLoadAt, Environment.TickCount64 + (long)_options.LoadRetryInterval.TotalMilliseconds);
                    LocalOnnxLog.LoadFailed(_logger, ModelId, e.Message, e);
                    throw;
                }
            });
            return _loading;
        }
    }
}
