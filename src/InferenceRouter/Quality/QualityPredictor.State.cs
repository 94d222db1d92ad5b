using System.Runtime.InteropServices;
using System.Text.Json;

namespace InferenceRouter;

public sealed partial class QualityPredictor
{
    private void Load(Stream stream, string origin)
    {
        QualityStateDocument document;
        try
        {
            document = JsonSerializer.Deserialize(stream, QualityJsonContext.Default.QualityStateDocument)
                ?? throw new InvalidDataException($"{origin} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{origin} is not valid JSON ({e.Message}); delete it to start from the prior.", e);
        }

        var (evidence, sample) = Read(document, origin);
        lock (_recordLock)
        {
            document.TierCounts!.CopyTo(_tierCounts);
            document.TierSums!.CopyTo(_tierSums);
            _evidence = evidence;
            _sample.Clear();
            _sample.AddRange(sample);
            _seen = document.Outcomes;
            Interlocked.Exchange(ref _outcomes, document.Outcomes);
        }

        _calibration = Calibrate();
    }

    /// <summary>Checks everything in the document before any of it is used, so a bad file changes nothing.</summary>
    private (QualityEvidence? Evidence, List<(double, float[]?)> Sample) Read(QualityStateDocument document, string origin)
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
        if (cells.Count > 0 && document.Dimensions <= 0)
        {
            throw new InvalidDataException(Problem($"has cells but {document.Dimensions} dimensions"));
        }

        if (cells.Count > _options.MaxCells)
        {
            throw new InvalidDataException(Problem($"has {cells.Count} cells; Quality:MaxCells allows {_options.MaxCells}"));
        }

        var evidence = cells.Count == 0 ? null : new QualityEvidence(document.Dimensions, TierCount, _options.MaxCells, _options.CellSimilarity);
        foreach (var cell in cells)
        {
            var centroid = Vector(cell.Centroid, document.Dimensions);
            if (centroid is null || cell.Counts?.Count != TierCount || cell.Sums?.Count != TierCount || cell.Difficulties?.Count != TierCount ||
                !Scores(cell.Counts, cell.Sums) || !Scores(cell.Counts, cell.Difficulties))
            {
                throw new InvalidDataException(Problem("has a cell whose centroid, counts, sums or difficulties do not fit"));
            }

            evidence!.AddCell(centroid, [.. cell.Counts], [.. cell.Sums], [.. cell.Difficulties]);
        }

        var sample = new List<(double, float[]?)>();
        foreach (var point in (document.Calibration ?? []).Take(_options.CalibrationSampleSize))
        {
            var vector = point.Vector is null ? null : Vector(point.Vector, document.Dimensions);
            if ((point.Vector is not null && vector is null) || !(point.Difficulty is >= 0 and <= 1))
            {
                throw new InvalidDataException(Problem("has a calibration prompt whose vector or difficulty does not fit"));
            }

            sample.Add((point.Difficulty, vector));
        }

        return (evidence, sample);
    }

    private static bool Scores(List<double> counts, List<double> sums) =>
        counts.Zip(sums).All(p => p.First >= 0 && double.IsFinite(p.First) && p.Second >= -1e-9 && p.Second <= p.First + 1e-9);

    private static float[]? Vector(byte[]? bytes, int dimensions)
    {
        if (bytes is null || bytes.Length != dimensions * sizeof(float))
        {
            return null;
        }

        var vector = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        return vector.All(float.IsFinite) ? vector : null;
    }
}
