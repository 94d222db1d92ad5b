using System.Runtime.InteropServices;
using System.Text.Json;

namespace InferenceRouter;

public sealed partial class QualityPredictor
{
    /// <summary>Writes what was learned (cells, tier totals, the app's difficulty model, calibration sample) as JSON.</summary>
    /// <param name="stream">Where to write.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        QualityStateDocument document;
        lock (_recordLock)
        {
            var evidence = _evidence;
            var learned = _learner?.Export();
            document = new QualityStateDocument
            {
                Format = QualityStateDocument.CurrentFormat,
                EmbeddingModel = _embeddingModel,
                Dimensions = evidence?.Dimensions ?? _sample.FirstOrDefault(s => s.Vector is not null).Vector?.Length ?? 0,
                TierCount = TierCount,
                Outcomes = _outcomes,
                TierCounts = [.. _tierCounts],
                TierSums = [.. _tierSums],
                Cells = evidence?.Export().Select(c => new QualityCellDocument
                {
                    Centroid = Bytes<float>(c.Centroid),
                    Counts = [.. c.Counts],
                    Sums = [.. c.Sums],
                    Difficulties = [.. c.Difficulties],
                }).ToList() ?? [],
                Calibration = [.. _sample.Select(s => new QualitySampleDocument { Features = Bytes<float>(s.Features), Vector = s.Vector is null ? null : Bytes<float>(s.Vector) })],
                LearnedOutcomes = _learner?.Count ?? 0,
                LearnedGram = learned is null ? null : Bytes<double>(learned.Value.Gram),
                LearnedMoments = learned is null ? null : Bytes<double>(learned.Value.Moments),
                LearnedWeights = _learned is { } weights ? Bytes<float>(weights) : null,
                LearnedAt = _learnedAt,
                Threshold = _calibration.Threshold,
                MeanDifficulty = _calibration.MeanDifficulty,
                CalibratedAt = _calibration.Outcomes,
            };
        }

        JsonSerializer.Serialize(stream, document, QualityJsonContext.Default.QualityStateDocument);
    }

    private void Load(Stream stream, string origin)
    {
        QualityStateDocument document;
        try
        {
            document = JsonSerializer.Deserialize(stream, QualityJsonContext.Default.QualityStateDocument)
                ?? throw new InvalidDataException($"{origin} is empty; delete it to start from the prior.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{origin} is not valid JSON ({e.Message}); delete it to start from the prior.", e);
        }

        var (evidence, sample, learner, weights) = Read(document, origin);
        lock (_recordLock)
        {
            document.TierCounts!.CopyTo(_tierCounts);
            document.TierSums!.CopyTo(_tierSums);
            _evidence = evidence;
            _sample.Clear();
            _sample.AddRange(sample);
            _seen = document.Outcomes;
            _learner = learner;
            _learnedAt = weights is null ? 0 : document.LearnedAt;
            _learned = weights;
            Interlocked.Exchange(ref _outcomes, document.Outcomes);
        }

        // The saved calibration is kept as it was, so a reloaded predictor decides exactly as the saved one did.
        _calibration = document.Threshold is { } threshold && double.IsFinite(threshold) && document.MeanDifficulty is { } mean && mean is >= 0 and <= 1 &&
            document.CalibratedAt >= 0 && document.CalibratedAt <= document.Outcomes
            ? new Calibration(threshold, mean, document.CalibratedAt)
            : Calibrate();
    }

    /// <summary>Checks everything in the document before any of it is used, so a bad file changes nothing.</summary>
    private (QualityEvidence? Evidence, List<(float[], float[]?)> Sample, QualityLearner? Learner, float[]? Weights) Read(QualityStateDocument document, string origin)
    {
        string Problem(string what) => $"{origin} {what}; delete it to start from the prior, or load the file this configuration saved.";
        if (document.Format != QualityStateDocument.CurrentFormat)
        {
            throw new InvalidDataException(Problem($"has format '{document.Format}', not '{QualityStateDocument.CurrentFormat}'"));
        }

        if (document.TierCount != TierCount)
        {
            throw new InvalidDataException(Problem($"has {document.TierCount} quality tiers; this predictor has {TierCount}"));
        }

        if (document.EmbeddingModel is not null && _embeddingModel is not null && document.EmbeddingModel != _embeddingModel)
        {
            throw new InvalidDataException(Problem($"was learned with embedding model '{document.EmbeddingModel}'; this predictor embeds with '{_embeddingModel}'"));
        }

        if (document.TierCounts?.Count != TierCount || document.TierSums?.Count != TierCount || document.Outcomes < 0 ||
            !Scores(document.TierCounts, document.TierSums))
        {
            throw new InvalidDataException(Problem("has tier totals that are missing or out of range"));
        }

        var cells = document.Cells ?? [];
        if (document.Dimensions < 0 || (cells.Count > 0 && document.Dimensions == 0))
        {
            throw new InvalidDataException(Problem($"has {document.Dimensions} dimensions"));
        }

        if (cells.Count > _options.MaxCells)
        {
            throw new InvalidDataException(Problem($"has {cells.Count} cells; Quality:MaxCells allows {_options.MaxCells}"));
        }

        var evidence = cells.Count == 0 ? null : new QualityEvidence(document.Dimensions, TierCount, _options.MaxCells, _options.CellSimilarity);
        foreach (var cell in cells)
        {
            var centroid = Values<float>(cell.Centroid, document.Dimensions);
            if (centroid is null || cell.Counts?.Count != TierCount || cell.Sums?.Count != TierCount || cell.Difficulties?.Count != TierCount ||
                !Scores(cell.Counts, cell.Sums) || !Scores(cell.Counts, cell.Difficulties))
            {
                throw new InvalidDataException(Problem("has a cell whose centroid, counts, sums or difficulties do not fit"));
            }

            evidence!.AddCell(centroid, [.. cell.Counts], [.. cell.Sums], [.. cell.Difficulties]);
        }

        var sample = new List<(float[], float[]?)>();
        foreach (var point in (document.Calibration ?? []).Take(_options.CalibrationSampleSize))
        {
            var features = Values<float>(point.Features, PromptFeatures.Count);
            var vector = point.Vector is null ? null : Values<float>(point.Vector, document.Dimensions);
            if (features is null || (point.Vector is not null && vector is null))
            {
                throw new InvalidDataException(Problem("has a calibration prompt whose features or vector do not fit"));
            }

            sample.Add((features, vector));
        }

        QualityLearner? learner = null;
        if (document.LearnedGram is not null || document.LearnedMoments is not null)
        {
            int length = document.LearnedMoments is null ? -1 : document.LearnedMoments.Length / sizeof(double);
            learner = length is var n && (n == PromptFeatures.Count || n == PromptFeatures.Count + document.Dimensions)
                ? new QualityLearner(Prior.StartingWeights(n - PromptFeatures.Count, PriorReadsEmbedding))
                : null;
            var gram = learner is null ? null : Values<double>(document.LearnedGram, learner.GramLength);
            var moments = learner is null ? null : Values<double>(document.LearnedMoments, learner.Length);
            if (learner is null || gram is null || moments is null || document.LearnedOutcomes < 0)
            {
                throw new InvalidDataException(Problem("has a learned difficulty model whose sums do not fit"));
            }

            learner.Import(gram, moments, document.LearnedOutcomes);
        }

        float[]? weights = null;
        if (document.LearnedWeights is not null &&
            (learner is null || (weights = Values<float>(document.LearnedWeights, learner.Length)) is null || document.LearnedAt < 0 || document.LearnedAt > learner.Count))
        {
            throw new InvalidDataException(Problem("has learned weights that do not fit its difficulty model"));
        }

        return (evidence, sample, learner, weights);
    }

    private static bool Scores(List<double> counts, List<double> sums) =>
        counts.Zip(sums).All(p => p.First >= 0 && double.IsFinite(p.First) && p.Second >= -1e-9 && p.Second <= p.First + 1e-9);

    private static byte[] Bytes<T>(T[] values)
        where T : struct => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static T[]? Values<T>(byte[]? bytes, int count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (bytes is null || bytes.Length != count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>())
        {
            return null;
        }

        var values = MemoryMarshal.Cast<byte, T>(bytes).ToArray();
        return values.All(T.IsFinite) ? values : null;
    }
}
