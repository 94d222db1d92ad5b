using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace InferenceRouter;

/// <summary>
/// Predicts, per prompt, how well each quality tier will answer, and turns a <see cref="QualityBar"/> into the cheapest tier that
/// clears it. It starts from a <see cref="QualityPrior"/> and learns from outcomes the app records (<see cref="RecordOutcomeAsync(string, int, double, CancellationToken)"/>),
/// without a restart; what it learned saves to and loads from a small file.
/// </summary>
/// <remarks>
/// <para>
/// Per tier t (0 = cheapest, of T), the prior expects quality μₜ − (1 − t/(T−1))·(d − d̄): a prompt harder than usual (its difficulty d
/// above the mean d̄ over the app's recorded prompts) costs the cheaper tiers more. μₜ is the tier's mean recorded score; d comes from
/// the app's own difficulty model once it has learned one from outcomes of the cheapest tier, else from the prior. Recorded outcomes near the prompt (the nearest
/// cells of similar prompts, similarity-weighted) then correct each tier by how far their scores were from what the prior expected of
/// them, weighed against <see cref="QualityPredictorOptions.PriorWeight"/> outcomes' worth of prior: with no nearby evidence the
/// prediction is the prior's.
/// </para>
/// <para>Thread-safe. Predictions take no write lock and allocate one small result; recording and calibration are off the call path.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed partial class QualityPredictor : IDisposable
{
    private readonly QualityPredictorOptions _options;
    private readonly IEmbeddingGenerator<string, Embedding<float>>? _generator;
    private readonly ILogger _logger;
    private readonly QualityBar _bar;
    private readonly QualityTelemetry _telemetry;
    private readonly object _recordLock = new();
    private readonly Random _random = new(1);
    private readonly List<(float[] Features, float[]? Vector)> _sample = [];
    private readonly double[] _tierCounts;
    private readonly double[] _tierSums;
    private readonly string? _embeddingModel;
    private readonly bool _embeddingsOnDevice;
    private volatile QualityEvidence? _evidence;
    private volatile float[]? _learned;
    private QualityLearner? _learner;
    private long _learnedAt;
    private volatile Calibration _calibration;
    private long _outcomes;
    private long _seen;
    private bool _disposed;

    /// <summary>Creates a predictor.</summary>
    /// <param name="options">The options; null for defaults.</param>
    /// <param name="embeddingGenerator">Embeds prompts so outcomes of similar prompts count; null for the prior's text features only.</param>
    /// <param name="logger">Logs state files that cannot load and embeddings that fail.</param>
    /// <param name="prior">The prior; null for <see cref="QualityPrior.Default"/>.</param>
    /// <param name="meterFactory">Creates the <c>InferenceRouter</c> meter (predictions and outcomes by tier); null for a private one.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message says how to fix them.</exception>
    public QualityPredictor(
        QualityPredictorOptions? options = null,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator = null,
        ILogger<QualityPredictor>? logger = null,
        QualityPrior? prior = null,
        System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        _options = options ?? new QualityPredictorOptions();
        OptionsValidation.ThrowIfInvalid(_options.GetValidationErrors(), nameof(options));

        _generator = embeddingGenerator;
        _telemetry = new QualityTelemetry(meterFactory);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _bar = _options.GetBar();
        Prior = prior ?? QualityPrior.Default;
        TierCount = _options.TierCount;
        _tierCounts = new double[TierCount];
        _tierSums = new double[TierCount];
        _embeddingModel = embeddingGenerator?.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId;
        _embeddingsOnDevice = _options.EmbeddingsOnDevice ?? EgressGate.IsOnDevice(embeddingGenerator);
        _calibration = Calibrate();
        if (_options.StatePath is { } path && File.Exists(path))
        {
            try
            {
                using var stream = File.OpenRead(path);
                Load(stream, $"The quality state file '{path}'");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                LoadError = e.Message;
                QualityLog.StateNotLoaded(_logger, path, e.Message, e);
            }
        }
    }

    /// <summary>Gets the prior predictions start from.</summary>
    public QualityPrior Prior { get; }

    /// <summary>Gets how many quality tiers there are.</summary>
    public int TierCount { get; }

    /// <summary>Gets the bar decisions must clear.</summary>
    public QualityBar Bar => _bar;

    /// <summary>Gets how many outcomes were recorded (loaded ones included).</summary>
    public long OutcomeCount => Interlocked.Read(ref _outcomes);

    /// <summary>Gets the gain threshold the bar is calibrated to now.</summary>
    public double Threshold => _calibration.Threshold;

    /// <summary>Gets why <see cref="QualityPredictorOptions.StatePath"/> did not load at start (the predictor then runs on the prior), or null.</summary>
    public string? LoadError { get; private set; }

    /// <summary>Gets the bytes learned state holds: evidence cells and the calibration sample.</summary>
    public long EstimatedBytes
    {
        get
        {
            lock (_recordLock)
            {
                return (_evidence?.EstimatedBytes ?? 0) + ((_learner?.GramLength ?? 0) * sizeof(double)) + _sample.Sum(s => ((long)((s.Vector?.Length ?? 0) + s.Features.Length) * sizeof(float)) + 48);
            }
        }
    }

    /// <summary>Predicts each tier's quality for the prompt of <paramref name="messages"/> (its last user message), embedding it when an embedding generator was given.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="cancellationToken">Cancels the embedding.</param>
    /// <returns>The prediction. An embedding failure is logged and the prediction falls back to the prior; it never fails the call.</returns>
    public ValueTask<QualityPrediction> PredictAsync(IEnumerable<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        PredictAsync(messages, CallContext.None, cancellationToken);

    /// <summary>
    /// Predicts each tier's quality for the prompt of a call with <paramref name="context"/>: a call kept on the device is embedded only by
    /// a generator on the device (<see cref="EgressGate"/>), else predicted from its text features alone.
    /// </summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="context">The call's captured context.</param>
    /// <param name="cancellationToken">Cancels the embedding.</param>
    /// <returns>The prediction. An embedding failure is logged and the prediction falls back to the prior; it never fails the call.</returns>
    public async ValueTask<QualityPrediction> PredictAsync(IEnumerable<ChatMessage> messages, CallContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(context);
        string prompt = PromptOf(messages);
        return Predict(prompt, await EmbedAsync(prompt, context.KeepOnDevice, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Predicts each tier's quality for <paramref name="prompt"/> with a vector the caller already has.</summary>
    /// <param name="prompt">The prompt's text.</param>
    /// <param name="embedding">Its embedding from this predictor's generator, or empty for the prior alone.</param>
    /// <returns>The prediction.</returns>
    public QualityPrediction Predict(string prompt, ReadOnlySpan<float> embedding)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var calibration = _calibration;
        var quality = new double[TierCount];
        Span<float> features = stackalloc float[PromptFeatures.Count];
        PromptFeatures.Extract(prompt, features);
        double difficulty = Difficulty(features, embedding);
        double evidence = Estimate(difficulty, calibration.MeanDifficulty, embedding, quality);
        var prediction = new QualityPrediction(difficulty, evidence, quality, calibration.Threshold, _bar);
        _telemetry.Predicted(prediction.ChosenTier);
        return prediction;
    }

    /// <summary>Records how well tier <paramref name="tier"/> answered <paramref name="prompt"/>; later predictions use it at once.</summary>
    /// <param name="prompt">The prompt (the last user message).</param>
    /// <param name="tier">The tier of the route that answered.</param>
    /// <param name="score">1 for good (thumbs up, test passed), 0 for bad, or an evaluator's score in between.</param>
    /// <param name="cancellationToken">Cancels the embedding.</param>
    /// <returns>A task that completes when the outcome counts.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tier"/> or <paramref name="score"/> is out of range.</exception>
    public Task RecordOutcomeAsync(string prompt, int tier, double score, CancellationToken cancellationToken = default) =>
        RecordAsync(prompt, tier, score, keptOnDevice: false, cancellationToken);

    /// <summary>
    /// Records how well tier <paramref name="tier"/> answered <paramref name="prompt"/> of a call that was (or was not) kept on the device:
    /// such an outcome is embedded only on the device and never shared (<see cref="EgressGate"/>).
    /// </summary>
    /// <param name="prompt">The prompt (the last user message).</param>
    /// <param name="tier">The tier of the route that answered.</param>
    /// <param name="score">1 for good, 0 for bad, or a score in between.</param>
    /// <param name="keptOnDevice">Whether the call was kept on the device (<see cref="RoutingInfo.KeptOnDevice"/>).</param>
    /// <param name="cancellationToken">Cancels the embedding.</param>
    /// <returns>A task that completes when the outcome counts.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tier"/> or <paramref name="score"/> is out of range.</exception>
    public Task RecordOutcomeAsync(string prompt, int tier, double score, bool keptOnDevice, CancellationToken cancellationToken = default) =>
        RecordAsync(prompt, tier, score, keptOnDevice, cancellationToken);

    /// <summary>Records how well the route that produced <paramref name="response"/> answered <paramref name="messages"/>.</summary>
    /// <param name="messages">The conversation sent.</param>
    /// <param name="response">The router's response (its <see cref="RoutingInfo.QualityTier"/> names the tier).</param>
    /// <param name="score">1 for good, 0 for bad, or a score in between.</param>
    /// <param name="cancellationToken">Cancels the embedding.</param>
    /// <returns>A task that completes when the outcome counts.</returns>
    /// <exception cref="InvalidOperationException">The response came from the cache, or its route declares no quality tier.</exception>
    public Task RecordOutcomeAsync(IEnumerable<ChatMessage> messages, ChatResponse response, double score, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(response);
        var info = response.GetRoutingInfo();
        if (info?.QualityTier is not { } tier)
        {
            throw new InvalidOperationException(info?.CacheHit is not null
                ? "The response came from the cache, so no tier answered it; record outcomes of routed responses only."
                : $"The response's route '{info?.Route ?? "(none)"}' declares no QualityTier; set RouteDescriptor.QualityTier (or Routes:<name>:QualityTier) or record with RecordOutcomeAsync(prompt, tier, score).");
        }

        return RecordAsync(PromptOf(messages), tier, score, info.KeptOnDevice, cancellationToken);
    }

    /// <summary>Records an outcome with a vector the caller already has (empty: it moves the tier's mean only).</summary>
    /// <param name="prompt">The prompt.</param>
    /// <param name="embedding">Its embedding, or empty.</param>
    /// <param name="tier">The tier that answered.</param>
    /// <param name="score">In [0, 1].</param>
    public void RecordOutcome(string prompt, ReadOnlySpan<float> embedding, int tier, double score) => RecordOutcome(prompt, embedding, tier, score, share: true);

    private async Task RecordAsync(string prompt, int tier, double score, bool keptOnDevice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        CheckOutcome(tier, score);

        // Other instances are off the device: what a call kept on the device teaches stays here.
        bool share = EgressGate.Allows(keptOnDevice, destinationOnDevice: false);
        RecordOutcome(prompt, await EmbedAsync(prompt, keptOnDevice, cancellationToken).ConfigureAwait(false), tier, score, share);
    }

    /// <summary>Records an outcome; raises <see cref="OutcomeRecorded"/> unless it must stay here (a call kept on the device).</summary>
    private void RecordOutcome(string prompt, ReadOnlySpan<float> embedding, int tier, double score, bool share)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        CheckOutcome(tier, score);
        CheckDimensions(embedding.Length);
        var features = new float[PromptFeatures.Count];
        PromptFeatures.Extract(prompt, features);
        Record(features, embedding, tier, score);
        if (share && OutcomeRecorded is { } handlers)
        {
            try
            {
                handlers(new QualityOutcome(features, embedding.ToArray(), tier, score));
            }
            catch (Exception e)
            {
                // Sharing is best effort: a failing handler never loses the outcome here.
                QualityLog.OutcomeNotShared(_logger, e.GetType().Name, e);
            }
        }
    }

    /// <summary>
    /// Raised after an outcome is recorded here, so other instances can learn it too: not for outcomes applied with
    /// <see cref="ApplyOutcome"/> (sharing never echoes), nor for a response to a call kept on the device (<see cref="RoutingInfo.KeptOnDevice"/>).
    /// Raised on the recording thread; handlers must be quick.
    /// </summary>
    public event Action<QualityOutcome>? OutcomeRecorded;

    /// <summary>Learns an outcome recorded by another instance, as if recorded here (without raising <see cref="OutcomeRecorded"/>).</summary>
    /// <param name="outcome">The outcome.</param>
    /// <returns>False when it cannot count here: another feature version, tier count or embedding size (instances of different versions or settings).</returns>
    public bool ApplyOutcome(QualityOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Features is not { Length: var count } || count != PromptFeatures.Count || outcome.Tier < 0 || outcome.Tier >= TierCount ||
            !(outcome.Score is >= 0 and <= 1) || outcome.Embedding is null || (outcome.Embedding.Length > 0 && _evidence is { } existing && outcome.Embedding.Length != existing.Dimensions))
        {
            return false;
        }

        Record([.. outcome.Features], outcome.Embedding, outcome.Tier, outcome.Score);  // a copy: the sample keeps the features
        return true;
    }

    private void CheckDimensions(int dimensions)
    {
        if (dimensions > 0 && _evidence is { } existing && dimensions != existing.Dimensions)
        {
            throw new ArgumentException($"The embedding has {dimensions} dimensions; this predictor's evidence has {existing.Dimensions}. Use one embedding model.", "embedding");
        }
    }

    private void Record(float[] features, ReadOnlySpan<float> embedding, int tier, double score)
    {
        bool recalibrate;
        lock (_recordLock)
        {
            if (!embedding.IsEmpty && _evidence is { } existing && embedding.Length != existing.Dimensions)
            {
                return;  // checked by the callers; a race with the first recorded vector's size ends here
            }

            _tierCounts[tier] += 1;
            _tierSums[tier] += score;
            double difficulty = Difficulty(features, embedding);
            if (!embedding.IsEmpty)
            {
                (_evidence ??= new QualityEvidence(embedding.Length, TierCount, _options.MaxCells, _options.CellSimilarity)).Add(embedding, tier, score, difficulty);
            }

            bool refitted = tier == 0 && Learn(features, embedding, score);

            Sample(features, embedding);

            long outcomes = Interlocked.Increment(ref _outcomes);
            recalibrate = refitted || outcomes - _calibration.Outcomes >= Math.Max(16, _calibration.Outcomes / 20);
        }

        _telemetry.Recorded(tier);
        if (recalibrate)
        {
            _calibration = Calibrate();
        }
    }

    /// <summary>Saves what was learned to <see cref="QualityPredictorOptions.StatePath"/> (atomically: a temporary file, then a rename).</summary>
    /// <exception cref="InvalidOperationException">No state path is configured.</exception>
    public void Save()
    {
        var path = _options.StatePath ?? throw new InvalidOperationException("Quality:StatePath is not set; set it, or save to a stream with Save(stream).");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        using (var stream = File.Create(temporary))
        {
            Save(stream);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Replaces what was learned with the state in <paramref name="stream"/>; on any error the current state is kept.</summary>
    /// <param name="stream">JSON written by <see cref="Save(Stream)"/>.</param>
    /// <exception cref="InvalidDataException">The stream is not a state this predictor can use (corrupt, other tiers, other embedding model); the message says which.</exception>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Load(stream, "The quality state");
    }

    /// <summary>Saves to <see cref="QualityPredictorOptions.StatePath"/> when one is set.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _telemetry.Dispose();
        if (_options.StatePath is not null && OutcomeCount > 0)
        {
            try
            {
                Save();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                QualityLog.StateNotSaved(_logger, _options.StatePath, e.Message, e);
            }
        }
    }

    internal static string PromptOf(IEnumerable<ChatMessage> messages)
    {
        string? last = null;
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.User)
            {
                last = message.Text;
            }
        }

        return last ?? string.Join("\n", messages.Select(m => m.Text));
    }

    private bool PriorReadsEmbedding => Prior.EmbeddingModel is not null && Prior.EmbeddingModel == _embeddingModel;

    /// <summary>How likely the cheapest tier is to fail: the app's learned model once it has one for vectors like this, else the prior.</summary>
    private double Difficulty(ReadOnlySpan<float> features, ReadOnlySpan<float> embedding)
    {
        if (_learned is { } learned && learned.Length == PromptFeatures.Count + embedding.Length)
        {
            double difficulty = System.Numerics.Tensors.TensorPrimitives.Dot(features, learned.AsSpan(0, PromptFeatures.Count));
            if (!embedding.IsEmpty)
            {
                difficulty += System.Numerics.Tensors.TensorPrimitives.Dot(embedding, learned.AsSpan(PromptFeatures.Count));
            }

            return Math.Clamp(difficulty, 0, 1);
        }

        return Prior.PredictDifficulty(features, PriorReadsEmbedding ? embedding : default);
    }

    /// <summary>Feeds an outcome of the cheapest tier to the app's difficulty model; refits it every 5% more outcomes (at least 16).</summary>
    /// <returns>Whether it refitted (then the bar is recalibrated).</returns>
    private bool Learn(float[] features, ReadOnlySpan<float> embedding, double score)
    {
        _learner ??= new QualityLearner(Prior.StartingWeights(embedding.Length, PriorReadsEmbedding));
        if (_learner.Length != PromptFeatures.Count + embedding.Length)
        {
            return false;  // an outcome without the vector the model was started with (or the reverse) cannot be a row of it
        }

        _learner.Add([.. features, .. embedding], 1 - score);
        if (_learner.Count - _learnedAt < Math.Max(16, _learnedAt / 20))
        {
            return false;
        }

        _learned = _learner.Fit();
        _learnedAt = _learner.Count;
        return true;
    }

    /// <summary>Fills each tier's quality and returns the weighted count of nearby outcomes.</summary>
    private double Estimate(double difficulty, double meanDifficulty, ReadOnlySpan<float> embedding, Span<double> quality)
    {
        Span<double> counts = stackalloc double[TierCount];
        Span<double> sums = stackalloc double[TierCount];
        Span<double> difficulties = stackalloc double[TierCount];
        double evidence = 0;
        if (_evidence is { } cells && embedding.Length == cells.Dimensions)
        {
            evidence = cells.Gather(embedding, _options.NeighbourCells, (float)_options.MinSimilarity, counts, sums, difficulties);
        }

        double k0 = _options.PriorWeight;
        for (int tier = 0; tier < TierCount; tier++)
        {
            // The tier's recorded mean, shrunk toward 0.5 while there are few outcomes; the prior moves it by the prompt's difficulty.
            double mean = (Volatile.Read(ref _tierSums[tier]) + (k0 * 0.5)) / (Volatile.Read(ref _tierCounts[tier]) + k0);
            double slope = 1 - ((double)tier / (TierCount - 1));
            double prior = mean - (slope * (difficulty - meanDifficulty));

            // Nearby outcomes correct the prior by how far they were from what it expected of them (their residuals).
            double expected = (counts[tier] * mean) - (slope * (difficulties[tier] - (counts[tier] * meanDifficulty)));
            quality[tier] = Math.Clamp(prior + ((sums[tier] - expected) / (k0 + counts[tier])), 0, 1);
        }

        return evidence;
    }

    private async ValueTask<float[]?> EmbedAsync(string prompt, bool keepOnDevice, CancellationToken cancellationToken)
    {
        if (_generator is null || prompt.Length == 0 || !EgressGate.Allows(keepOnDevice, _embeddingsOnDevice))
        {
            return null;
        }

        try
        {
            var embeddings = await _generator.GenerateAsync([prompt], cancellationToken: cancellationToken).ConfigureAwait(false);
            return embeddings[0].Vector.ToArray();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            QualityLog.EmbeddingFailed(_logger, e.GetType().Name, e);
            return null;
        }
    }

    private void CheckOutcome(int tier, double score)
    {
        if (tier < 0 || tier >= TierCount)
        {
            throw new ArgumentOutOfRangeException(nameof(tier), tier, $"Tiers run from 0 (cheapest) to {TierCount - 1}; set Quality:TierCount to use more.");
        }

        if (!(score is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(score), score, "A score is in [0, 1]: 1 for a good answer, 0 for a bad one.");
        }
    }

    /// <summary>Keeps a uniform sample of recorded prompts (reservoir sampling) to calibrate the bar on.</summary>
    private void Sample(float[] features, ReadOnlySpan<float> embedding)
    {
        _seen++;
        float[]? vector = embedding.IsEmpty ? null : embedding.ToArray();
        if (_sample.Count < _options.CalibrationSampleSize)
        {
            _sample.Add((features, vector));
        }
        else if (_random.NextInt64(_seen) is var slot && slot < _sample.Count)
        {
            _sample[(int)slot] = (features, vector);
        }
    }
}
