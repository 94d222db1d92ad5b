using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace InferenceRouter;

/// <summary>
/// Answers repeated and paraphrased questions from a cache, before any route is called: an exact tier (a hash of the request as sent)
/// and a semantic tier (the question's embedding against earlier questions of the same partition), precision first.
/// </summary>
/// <remarks>
/// <para>A hit never crosses what changes the answer: entries are partitioned by instructions, earlier turns, tools and tool mode,
/// response format, model or route group, sampling options and tenant (users too, if asked). A semantic hit also needs a clear margin
/// over the runner-up, agreement on negation, opposites, numbers, operands, direction, literals and names, the same code and
/// meaningful whitespace, and an embedding that saw the whole prompt (no truncation, no unknown characters). Only complete
/// plain-text answers are stored (finish reason stop; length only if asked): not tool calls, errors, filtered, cut-off or (by default)
/// truncated ones. Calls with a <see cref="ChatOptions.ConversationId"/>, non-text content or an empty prompt bypass the cache;
/// <see cref="ChatOptionsCacheExtensions.NoCache"/> and <see cref="ChatOptionsCacheExtensions.NoStore"/> steer single calls.</para>
/// <para>A failing embedding generator never fails a call: it goes through uncached. Concurrent identical requests, streamed or not,
/// wait for the first one's answer instead of all calling the model; a streaming leader's model stream is drained independently of its
/// reader, so followers never wait on the leader's reading pace. Hits carry a <see cref="RoutingInfo"/> with <see cref="RoutingInfo.CacheHit"/> and a zero
/// <see cref="CallCost"/>; streamed hits replay the text and usage. Thread-safe.</para>
/// </remarks>
public sealed class SemanticCacheChatClient : DelegatingChatClient
{
    // How far above an unhelpful match's similarity the entry's learned threshold goes.
    private const double LearnedThresholdStep = 0.001;

    private readonly IEmbeddingGenerator<string, Embedding<float>>? _generator;
    private readonly SemanticCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CacheTelemetry _telemetry;
    private readonly ConcurrentDictionary<string, VectorIndex> _indexes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _loadCancellation = new();
    private readonly Task _loading = Task.CompletedTask;
    private readonly ConcurrentDictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private readonly IRoutePreview? _preview;
    private readonly bool _keepsCallsOnDevice;
    private readonly bool _embeddingsOnDevice;

    /// <summary>Creates the cache.</summary>
    /// <param name="innerClient">The client behind the cache (usually the budget client or the router).</param>
    /// <param name="embeddingGenerator">Embeds questions for the semantic tier (e.g. <c>OnnxEmbeddingGenerator</c>); null keeps the exact tier only.</param>
    /// <param name="store">Where entries live; an <see cref="InMemoryCacheStore"/> of <see cref="SemanticCacheOptions.MaxEntries"/> by default.</param>
    /// <param name="options">Thresholds and lifetimes; validated here.</param>
    /// <param name="loggerFactory">Logging; none by default.</param>
    /// <param name="meterFactory">Metrics; a private meter by default.</param>
    /// <param name="timeProvider">The clock for expiry; <see cref="TimeProvider.System"/> by default.</param>
    public SemanticCacheChatClient(
        IChatClient innerClient,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator = null,
        ICacheStore? store = null,
        SemanticCacheOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        TimeProvider? timeProvider = null)
        : base(innerClient)
    {
        _options = options ?? new SemanticCacheOptions();
        OptionsValidation.ThrowIfInvalid(_options.GetValidationErrors(), nameof(options));

        _generator = embeddingGenerator;
        _time = timeProvider ?? TimeProvider.System;
        Store = store ?? new InMemoryCacheStore(_options.MaxEntries, _time, _options.MaxBytes);
        _preview = innerClient.GetService(typeof(IRoutePreview)) as IRoutePreview;
        _keepsCallsOnDevice = EgressGate.KeepsCallsOnDevice(innerClient);
        _embeddingsOnDevice = _options.EmbeddingsOnDevice ?? EgressGate.IsOnDevice(embeddingGenerator);
        Store.EntryRemoved += OnEntryRemoved;
        _logger = (ILogger?)loggerFactory?.CreateLogger<SemanticCacheChatClient>() ?? NullLogger.Instance;
        _telemetry = new CacheTelemetry(meterFactory);
        if (Store is ISharedCacheStore shared)
        {
            // What this instance holds is bounded by this cache's limits, whichever store holds it.
            shared.LimitLocalCopy(_options.MaxEntries, _options.MaxBytes);

            // Entries other instances store join this instance's index as they arrive; those stored before it started are loaded once.
            shared.EntryAdded += OnEntryAdded;
            _loading = LoadSharedAsync(shared);
        }
    }

    /// <summary>Gets the store entries live in.</summary>
    public ICacheStore Store { get; }

    /// <summary>Gets the options.</summary>
    public SemanticCacheOptions Options => _options;

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var call = new CachedCall(_preview, messages, options, streaming: false);
        if (call.Context.KeepOnDevice && !_keepsCallsOnDevice)
        {
            throw EgressGate.NotKeptOnDevice(nameof(SemanticCacheChatClient));
        }

        var control = call.Control;
        var request = CacheRequest.Create(messages, call.Options, call.Context, _options.PartitionByUser);
        if (request.Bypass)
        {
            return await Bypass(request).GetResponseAsync(messages, call.OptionsBelow, cancellationToken).ConfigureAwait(false);
        }

        var lookup = await LookupAsync(request, control, call, cancellationToken).ConfigureAwait(false);
        if (lookup.Hit is { } hit)
        {
            return HitResponse(hit, lookup, call.Context);
        }

        var leading = Lead(request, control, out var leader);
        if (leader is not null && await FollowAsync(leader, request, call, cancellationToken).ConfigureAwait(false) is { } shared)
        {
            return HitResponse(shared, new CacheLookup(shared, CacheTier.Exact, null, null, false), call.Context);
        }

        try
        {
            var response = await base.GetResponseAsync(messages, call.OptionsBelow, cancellationToken).ConfigureAwait(false);
            if ((control & CacheControl.NoStore) == 0 && lookup.Storable)
            {
                await StoreAsync(request, lookup.Vector, CachedChatResponse.From(response, _options.StoreTruncatedResponses), response.GetRoutingInfo(), cancellationToken).ConfigureAwait(false);
            }

            return response;
        }
        finally
        {
            Land(request, leading);
        }
    }

    /// <summary>
    /// Learns from what the user made of a cached answer (thumbs up or down). An unhelpful semantic hit makes its entry require a
    /// closer match than this one from now on; an unhelpful exact hit removes the entry (the answer itself was bad).
    /// </summary>
    /// <param name="routingInfo">The hit's routing info (<c>response.GetRoutingInfo()</c>, or the last streamed update's).</param>
    /// <param name="helpful">Whether the answer served the question.</param>
    /// <param name="cancellationToken">Cancels the store access.</param>
    /// <returns>Whether an entry was changed (false for answers that were not cache hits, or entries gone since).</returns>
    [System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
    public async ValueTask<bool> ReportOutcomeAsync(RoutingInfo routingInfo, bool helpful, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(routingInfo);
        if (helpful || routingInfo.CacheKey is not { } key)
        {
            return false;
        }

        if (routingInfo.CacheHit == CacheTier.Exact)
        {
            return await Store.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }

        if (await Store.GetAsync(key, peek: true, cancellationToken).ConfigureAwait(false) is not { } entry || routingInfo.Similarity is not { } similarity)
        {
            return false;
        }

        entry.RequireAtLeast(similarity + LearnedThresholdStep);
        if (Store is ISharedCacheStore shared)
        {
            await shared.UpdateAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <inheritdoc/>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);

        // The call's context is captured now, not when the stream is first read.
        var call = new CachedCall(_preview, messages, options, streaming: true);
        return call.Context.KeepOnDevice && !_keepsCallsOnDevice
            ? throw EgressGate.NotKeptOnDevice(nameof(SemanticCacheChatClient))
            : StreamAsync(call, cancellationToken);
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(ICacheStore) ? Store : base.GetService(serviceType, serviceKey);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Store.EntryRemoved -= OnEntryRemoved;
            if (Store is ISharedCacheStore shared)
            {
                shared.EntryAdded -= OnEntryAdded;
                _loadCancellation.Cancel();
            }

            _telemetry.Dispose();
        }

        base.Dispose(disposing);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(CachedCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var control = call.Control;
        var messages = call.Messages;
        var request = CacheRequest.Create(messages, call.Options, call.Context, _options.PartitionByUser);
        if (request.Bypass)
        {
            await foreach (var update in Bypass(request).GetStreamingResponseAsync(messages, call.OptionsBelow, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }

            yield break;
        }

        var lookup = await LookupAsync(request, control, call, cancellationToken).ConfigureAwait(false);
        if (lookup.Hit is { } hit)
        {
            foreach (var update in Replay(hit, lookup, call.Context))
            {
                yield return update;
            }

            yield break;
        }

        var leading = Lead(request, control, out var leader);
        if (leader is not null && await FollowAsync(leader, request, call, cancellationToken).ConfigureAwait(false) is { } shared)
        {
            foreach (var update in Replay(shared, new CacheLookup(shared, CacheTier.Exact, null, null, false), call.Context))
            {
                yield return update;
            }

            yield break;
        }

        if (leading is null)
        {
            // No followers can wait on this call (NoCache): it streams straight through.
            await foreach (var update in CallAndStoreAsync(request, lookup, call, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }

            yield break;
        }

        // A leader's model stream is drained by a pump of its own, not by this reader: followers are released when the model's answer is
        // complete and stored, whatever the reader's pace — even a reader that stops reading and never disposes the stream.
        var buffered = Channel.CreateUnbounded<ChatResponseUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var pumpCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = PumpAsync(CallAndStoreAsync(request, lookup, call, pumpCancellation.Token), buffered.Writer, request, leading, pumpCancellation.Token);
        try
        {
            await foreach (var update in buffered.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            if (!pump.IsCompleted)
            {
                // The reader stopped early (disposed or cancelled): the model call stops as it would without the cache, and followers, woken
                // with nothing stored, ask the model themselves.
                await pumpCancellation.CancelAsync().ConfigureAwait(false);
                await pump.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Streams the model's answer and, once it is complete, stores it (if it may be).</summary>
    private async IAsyncEnumerable<ChatResponseUpdate> CallAndStoreAsync(CacheRequest request, CacheLookup lookup, CachedCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var updates = new List<ChatResponseUpdate>();
        RoutingInfo? info = null;
        await foreach (var update in base.GetStreamingResponseAsync(call.Messages, call.OptionsBelow, cancellationToken).ConfigureAwait(false))
        {
            updates.Add(update);
            info = update.GetRoutingInfo() ?? info;
            yield return update;
        }

        if ((call.Control & CacheControl.NoStore) == 0 && lookup.Storable)
        {
            await StoreAsync(request, lookup.Vector, CachedChatResponse.From(updates.ToChatResponse(), _options.StoreTruncatedResponses), info, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads <paramref name="source"/> to its end into <paramref name="buffer"/>, then lands the flight (after the answer is stored, or
    /// on any failure or cancellation): never throws, a failure ends the buffer and reaches the leader's reader.
    /// </summary>
    private async Task PumpAsync(IAsyncEnumerable<ChatResponseUpdate> source, ChannelWriter<ChatResponseUpdate> buffer, CacheRequest request, TaskCompletionSource leading, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in source.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                buffer.TryWrite(update); // unbounded: holds no more than the answer the store would hold anyway
            }

            buffer.TryComplete();
        }
        catch (Exception e)
        {
            buffer.TryComplete(e);
        }
        finally
        {
            Land(request, leading);
        }
    }

    /// <summary>
    /// Single flight: the first call of a key to miss leads (asks the model; the claim is atomic); the others get its task to wait for
    /// (<see cref="FollowAsync"/>). Returns the leader's completion to signal, or null when this call follows or must not wait (NoCache).
    /// </summary>
    private TaskCompletionSource? Lead(CacheRequest request, CacheControl control, out Task? leader)
    {
        leader = null;
        if ((control & CacheControl.NoCache) != 0)
        {
            return null;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _inFlight.GetOrAdd(request.Key, done.Task);
        if (running == done.Task)
        {
            return done;
        }

        leader = running;
        return null;
    }

    /// <summary>
    /// Waits (with this call's own cancellation) for the leader, then reads its answer from the exact tier: null when it stored none (it
    /// failed, was cancelled, was cut short, was a fallback), and the follower asks the model itself — a leader never poisons a follower.
    /// </summary>
    private async ValueTask<CacheEntry?> FollowAsync(Task leader, CacheRequest request, CachedCall call, CancellationToken cancellationToken)
    {
        await leader.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (await Store.GetAsync(request.Key, cancellationToken: cancellationToken).ConfigureAwait(false) is { } shared && await call.ServesNowAsync(shared, cancellationToken).ConfigureAwait(false))
        {
            _telemetry.Lookup("exact", "hit");
            return shared;
        }

        return null;
    }

    /// <summary>Ends a leader's flight (after its answer is stored, or not): the followers wake up.</summary>
    private void Land(CacheRequest request, TaskCompletionSource? leading)
    {
        if (leading is not null)
        {
            _inFlight.TryRemove(KeyValuePair.Create(request.Key, leading.Task));
            leading.SetResult();
        }
    }

    private IChatClient Bypass(CacheRequest request)
    {
        CacheLog.Bypassed(_logger, request.BypassReason!);
        _telemetry.Lookup("none", "bypass");
        return InnerClient;
    }

    /// <summary>Looks the request up; a failing store or index is a logged miss (the cache never fails a call).</summary>
    private async ValueTask<CacheLookup> LookupAsync(CacheRequest request, CacheControl control, CachedCall call, CancellationToken cancellationToken)
    {
        try
        {
            return await LookupCoreAsync(request, control, call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            CacheLog.CacheFailed(_logger, "lookup", e.GetType().Name, e);
            _telemetry.Lookup("none", "error");
            return new CacheLookup(null, CacheTier.Exact, null, null, false);
        }
    }

    private async ValueTask<CacheLookup> LookupCoreAsync(CacheRequest request, CacheControl control, CachedCall call, CancellationToken cancellationToken)
    {
        bool read = (control & CacheControl.NoCache) == 0;
        if (read && await Store.GetAsync(request.Key, cancellationToken: cancellationToken).ConfigureAwait(false) is { } exact)
        {
            if (await call.ServesNowAsync(exact, cancellationToken).ConfigureAwait(false))
            {
                _telemetry.Lookup("exact", "hit");
                return new CacheLookup(exact, CacheTier.Exact, null, null, false);
            }

            _telemetry.Lookup("exact", "other_route");
        }
        else if (read)
        {
            _telemetry.Lookup("exact", "miss");
        }

        // The semantic tier needs a prompt the embedding sees whole, and an embedder the egress gate lets the prompt go to.
        if (_generator is null || !_options.EnableSemanticTier || request.Prompt.Length > _options.MaxSemanticPromptCharacters || !EgressGate.Allows(call.Context, _embeddingsOnDevice))
        {
            return new CacheLookup(null, CacheTier.Exact, null, null, true);
        }

        float[] vector;
        try
        {
            var embeddings = await _generator.GenerateAsync([request.EmbeddingText], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (LostInformation(embeddings[0]) is { } lost)
            {
                // The vector stands for part of the prompt only (cut, or characters the vocabulary lacks): it could match a prompt that
                // differs where the model could not see. Exact tier only, and said so.
                CacheLog.EmbeddingLostInformation(_logger, lost);
                _telemetry.Lookup("semantic", lost);
                return new CacheLookup(null, CacheTier.Exact, null, null, true);
            }

            vector = embeddings[0].Vector.ToArray();
            float norm = TensorPrimitives.Norm(vector);
            if (!(norm > 0) || float.IsInfinity(norm))
            {
                throw new InvalidOperationException($"The embedding generator returned a vector of norm {norm}.");
            }

            TensorPrimitives.Divide(vector, norm, vector);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The cache must never fail a call: without an embedding the call goes through, and is not stored.
            CacheLog.EmbeddingFailed(_logger, e.GetType().Name, e);
            _telemetry.Lookup("semantic", "error");
            return new CacheLookup(null, CacheTier.Semantic, null, null, false);
        }

        if (!read)
        {
            return new CacheLookup(null, CacheTier.Semantic, null, vector, true);
        }

        if (!_indexes.TryGetValue(request.Partition, out var index) || index.Search(vector) is not { } match)
        {
            _telemetry.Lookup("semantic", "miss");
            return new CacheLookup(null, CacheTier.Semantic, null, vector, true);
        }

        var candidate = await Store.GetAsync(match.Key, peek: true, cancellationToken).ConfigureAwait(false);
        bool accepted = candidate is not null && match.Similarity >= Math.Max(_options.MinSimilarity, candidate.LearnedMinSimilarity) &&
            (match.RunnerUpSimilarity is not { } runnerUp || match.Similarity - runnerUp >= _options.MinMargin) &&
            (!_options.RequireSalientAgreement || SalientTerms.Agree(request.Prompt, candidate.Prompt)) &&
            VerbatimParts.Agree(request.Prompt, candidate.Prompt); // the embedder saw collapsed whitespace: code and layout must match as sent
        bool otherRoute = accepted && !await call.ServesNowAsync(candidate!, cancellationToken).ConfigureAwait(false);
        accepted &= !otherRoute;
        string outcome = accepted ? "hit" : otherRoute ? "other_route" : match.Similarity >= _options.MinSimilarity - _options.NearMissBand ? "near_miss" : "miss";
        _telemetry.Lookup("semantic", outcome);
        _telemetry.Similarity(match.Similarity, outcome);
        if (accepted)
        {
            await Store.GetAsync(match.Key, cancellationToken: cancellationToken).ConfigureAwait(false); // now it counts as used
        }

        return new CacheLookup(accepted ? candidate : null, CacheTier.Semantic, match.Similarity, vector, true);
    }

    /// <summary>What the embedding's input lost, as the generator reports it (<see cref="EmbeddingProperties"/>): null when nothing.</summary>
    private static string? LostInformation(Embedding<float> embedding)
    {
        if (embedding.AdditionalProperties is not { } properties)
        {
            return null;
        }

        if (properties.TryGetValue(EmbeddingProperties.Truncated, out var truncated) && truncated is true)
        {
            return "truncated";
        }

        return properties.TryGetValue(EmbeddingProperties.UnknownTokens, out var unknown) && unknown is int count and > 0 ? "unknown_tokens" : null;
    }

    private async ValueTask StoreAsync(CacheRequest request, float[]? vector, CachedChatResponse? response, RoutingInfo? info, CancellationToken cancellationToken)
    {
        if (response is null)
        {
            return;
        }

        if (info is { IsFallback: true } && !_options.StoreFallbackAnswers)
        {
            // A failover, downgrade or offline answer is not what this request gets once the preferred route is back.
            CacheLog.FallbackNotStored(_logger, info.Route);
            return;
        }

        if (info is { KeptOnDevice: true } && !request.LocalOnly)
        {
            // Made private below the cache (middleware set KeepOnDevice after this layer captured the call): its key is not marked
            // private, so a shared store would send it on. Never stored; the fix is to set KeepOnDevice above the cache.
            CacheLog.PrivateBelowNotStored(_logger, info.Route);
            return;
        }

        var now = _time.GetUtcNow();
        var entry = new CacheEntry(request.Key, request.Partition, request.Prompt, vector, response, now, now + _options.TimeToLive, info?.Route, info?.RouteModelId)
        {
            KeepOnDevice = request.LocalOnly,
        };
        try
        {
            // Indexed first, so an eviction during the store (EntryRemoved) finds the vector to remove and none is left dangling.
            if (vector is not null)
            {
                AddToIndex(entry, vector);
            }

            await Store.SetAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            OnEntryRemoved(entry);
            // The answer is already in hand: a store that cannot take it costs a future hit, never this call.
            CacheLog.CacheFailed(_logger, "store", e.GetType().Name, e);
        }
    }

    private ChatResponse HitResponse(CacheEntry hit, CacheLookup lookup, CallContext context)
    {
        hit.CountHit();
        CacheLog.Hit(_logger, lookup.Tier, lookup.Similarity);
        var response = hit.Response.ToChatResponse();
        response.AdditionalProperties = new()
        {
            [RoutingInfoExtensions.RoutingInfoKey] = RoutingInfo.ForCacheHit(lookup.Tier, lookup.Similarity, hit.Response.ModelId, hit.Key, context.KeepOnDevice),
            [CallCostExtensions.CostKey] = Free(hit),
        };
        return response;
    }

    private IEnumerable<ChatResponseUpdate> Replay(CacheEntry hit, CacheLookup lookup, CallContext context)
    {
        hit.CountHit();
        CacheLog.Hit(_logger, lookup.Tier, lookup.Similarity);
        var id = Guid.NewGuid().ToString("N");
        foreach (var message in hit.Response.Messages)
        {
            yield return new ChatResponseUpdate(new ChatRole(message.Role), message.Text) { ResponseId = id, MessageId = id, ModelId = hit.Response.ModelId };
        }

        var last = new ChatResponseUpdate
        {
            ResponseId = id,
            ModelId = hit.Response.ModelId,
            FinishReason = hit.Response.FinishReason is { } reason ? new ChatFinishReason(reason) : null,
            AdditionalProperties = new()
            {
                [RoutingInfoExtensions.RoutingInfoKey] = RoutingInfo.ForCacheHit(lookup.Tier, lookup.Similarity, hit.Response.ModelId, hit.Key, context.KeepOnDevice),
                [CallCostExtensions.CostKey] = Free(hit),
            },
        };
        if (hit.Response.Usage() is { } usage)
        {
            last.Contents.Add(new UsageContent(usage));
        }

        yield return last;
    }

    private static CallCost Free(CacheEntry hit) => new(null, hit.Response.ModelId, 0m, "USD", isEstimated: false, 0, 0, 0, 0);

    /// <summary>Gets the number of partitions with a vector index (each holds at least one live entry's vector).</summary>
    internal int IndexCount => _indexes.Count;

    /// <summary>Gets the bytes the vector indexes hold.</summary>
    internal long IndexBytes => _indexes.Values.Sum(i => i.EstimatedBytes);

    private void AddToIndex(CacheEntry entry, float[] vector)
    {
        // An index that emptied is retired and dropped; an add that meets one drops it (if still there) and retries with a fresh index.
        while (true)
        {
            var index = _indexes.GetOrAdd(entry.Partition, static (_, dims) => new VectorIndex(dims), vector.Length);
            if (index.Add(entry.Key, vector, owner: entry))
            {
                return;
            }

            _indexes.TryRemove(KeyValuePair.Create(entry.Partition, index));
        }
    }

    /// <summary>Gets the load of a shared store's existing entries into the index (completed at once for a store of this instance's own).</summary>
    internal Task Loading => _loading;

    private void OnEntryAdded(CacheEntry entry)
    {
        if (entry.Vector is { } vector && vector.Length > 0)
        {
            AddToIndex(entry, vector.ToArray());
        }
    }

    private async Task LoadSharedAsync(ISharedCacheStore shared)
    {
        try
        {
            await foreach (var entry in shared.ReadAllAsync(_loadCancellation.Token).ConfigureAwait(false))
            {
                OnEntryAdded(entry);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The cache must never fail the app: entries not loaded are misses until they are stored again.
            CacheLog.SharedLoadFailed(_logger, e.GetType().Name, e);
        }
    }

    private void OnEntryRemoved(CacheEntry entry)
    {
        if (entry.Vector is not null && _indexes.TryGetValue(entry.Partition, out var index) && index.Remove(entry.Key, owner: entry) && index.Count == 0 && index.TryRetireIfEmpty())
        {
            // Empty indexes go away: memory follows the live entries, not every partition ever seen.
            _indexes.TryRemove(KeyValuePair.Create(entry.Partition, index));
        }
    }
}
