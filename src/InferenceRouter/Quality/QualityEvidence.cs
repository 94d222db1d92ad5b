using System.Numerics.Tensors;

namespace InferenceRouter;

/// <summary>
/// Recorded outcomes grouped into cells of similar prompts: each cell keeps the mean of its prompts' vectors and, per tier, how many
/// outcomes and how much score it holds. A prediction reads the nearest cells, so its cost is bounded by the cell count, not by how
/// many outcomes were recorded, and no prompt vector is kept per outcome. Cells also sum the prior's difficulty of their prompts, so a
/// prediction can correct the prior by what it got wrong nearby rather than replace it.
/// </summary>
/// <remarks>Thread-safe: predictions share a read lock; recording takes the write lock briefly.</remarks>
internal sealed class QualityEvidence
{
    private const int MaxNeighbours = 64;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly int _tiers;
    private readonly int _maxCells;
    private readonly float _join;
    private float[] _centroids;
    private float[] _norms;
    private double[] _counts;
    private double[] _sums;
    private double[] _difficulties;
    private int _cells;

    public QualityEvidence(int dimensions, int tiers, int maxCells, double cellSimilarity)
    {
        Dimensions = dimensions;
        _tiers = tiers;
        _maxCells = maxCells;
        _join = (float)cellSimilarity;
        _centroids = new float[16 * dimensions];
        _norms = new float[16];
        _counts = new double[16 * tiers];
        _sums = new double[16 * tiers];
        _difficulties = new double[16 * tiers];
    }

    public int Dimensions { get; }

    public int Cells => Volatile.Read(ref _cells);

    /// <summary>Gets the bytes held: centroids, norms and per-tier sums of every allocated cell.</summary>
    public long EstimatedBytes => ((long)_norms.Length * ((Dimensions + 1) * sizeof(float))) + ((long)_counts.Length * 3 * sizeof(double));

    /// <summary>Adds one outcome: to the nearest cell when it is similar enough (or the cells are full), else to a new cell.</summary>
    public void Add(ReadOnlySpan<float> vector, int tier, double score, double difficulty)
    {
        _lock.EnterWriteLock();
        try
        {
            int cell = Nearest(vector, out float similarity);
            double members = 0;
            if (cell < 0 || (similarity < _join && _cells < _maxCells))
            {
                cell = NewCell(vector);
            }
            else
            {
                members = TensorPrimitives.Sum<double>(_counts.AsSpan(cell * _tiers, _tiers));
                var centroid = _centroids.AsSpan(cell * Dimensions, Dimensions);
                for (int i = 0; i < centroid.Length; i++)
                {
                    centroid[i] += (float)((vector[i] - centroid[i]) / (members + 1));
                }

                _norms[cell] = TensorPrimitives.Norm<float>(centroid);
            }

            _counts[(cell * _tiers) + tier] += 1;
            _sums[(cell * _tiers) + tier] += score;
            _difficulties[(cell * _tiers) + tier] += difficulty;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Adds a saved cell as it was.</summary>
    public void AddCell(ReadOnlySpan<float> centroid, ReadOnlySpan<double> counts, ReadOnlySpan<double> sums, ReadOnlySpan<double> difficulties)
    {
        _lock.EnterWriteLock();
        try
        {
            int cell = NewCell(centroid);
            counts.CopyTo(_counts.AsSpan(cell * _tiers, _tiers));
            sums.CopyTo(_sums.AsSpan(cell * _tiers, _tiers));
            difficulties.CopyTo(_difficulties.AsSpan(cell * _tiers, _tiers));
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Adds the similarity-weighted outcome counts, score sums and difficulty sums of the nearest cells, per tier; returns the total weighted count.</summary>
    public double Gather(ReadOnlySpan<float> vector, int neighbours, float minSimilarity, Span<double> counts, Span<double> sums, Span<double> difficulties)
    {
        neighbours = Math.Min(neighbours, MaxNeighbours);
        Span<int> best = stackalloc int[neighbours];
        Span<float> bestSimilarity = stackalloc float[neighbours];
        int found = 0;
        double evidence = 0;
        _lock.EnterReadLock();
        try
        {
            for (int cell = 0; cell < _cells; cell++)
            {
                float similarity = Similarity(vector, cell);
                if (similarity < minSimilarity || similarity <= 0 || (found == neighbours && similarity <= bestSimilarity[found - 1]))
                {
                    continue;
                }

                // Insertion into a short sorted list: neighbours is small.
                int at = found < neighbours ? found++ : found - 1;
                while (at > 0 && bestSimilarity[at - 1] < similarity)
                {
                    best[at] = best[at - 1];
                    bestSimilarity[at] = bestSimilarity[at - 1];
                    at--;
                }

                best[at] = cell;
                bestSimilarity[at] = similarity;
            }

            for (int n = 0; n < found; n++)
            {
                double weight = bestSimilarity[n];
                int row = best[n] * _tiers;
                for (int tier = 0; tier < _tiers; tier++)
                {
                    counts[tier] += weight * _counts[row + tier];
                    sums[tier] += weight * _sums[row + tier];
                    difficulties[tier] += weight * _difficulties[row + tier];
                    evidence += weight * _counts[row + tier];
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        return evidence;
    }

    /// <summary>Copies every cell out, for saving.</summary>
    public List<(float[] Centroid, double[] Counts, double[] Sums, double[] Difficulties)> Export()
    {
        _lock.EnterReadLock();
        try
        {
            var cells = new List<(float[], double[], double[], double[])>(_cells);
            for (int cell = 0; cell < _cells; cell++)
            {
                cells.Add((
                    _centroids.AsSpan(cell * Dimensions, Dimensions).ToArray(),
                    _counts.AsSpan(cell * _tiers, _tiers).ToArray(),
                    _sums.AsSpan(cell * _tiers, _tiers).ToArray(),
                    _difficulties.AsSpan(cell * _tiers, _tiers).ToArray()));
            }

            return cells;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private float Similarity(ReadOnlySpan<float> vector, int cell) =>
        _norms[cell] == 0 ? 0 : TensorPrimitives.Dot(vector, _centroids.AsSpan(cell * Dimensions, Dimensions)) / _norms[cell];

    private int Nearest(ReadOnlySpan<float> vector, out float similarity)
    {
        int nearest = -1;
        similarity = float.NegativeInfinity;
        for (int cell = 0; cell < _cells; cell++)
        {
            float s = Similarity(vector, cell);
            if (s > similarity)
            {
                similarity = s;
                nearest = cell;
            }
        }

        return nearest;
    }

    private int NewCell(ReadOnlySpan<float> vector)
    {
        if (_cells == _norms.Length)
        {
            int capacity = Math.Min(_norms.Length * 2, Math.Max(_maxCells, _cells + 1));
            Array.Resize(ref _centroids, capacity * Dimensions);
            Array.Resize(ref _norms, capacity);
            Array.Resize(ref _counts, capacity * _tiers);
            Array.Resize(ref _sums, capacity * _tiers);
            Array.Resize(ref _difficulties, capacity * _tiers);
        }

        int cell = _cells;
        vector.CopyTo(_centroids.AsSpan(cell * Dimensions, Dimensions));
        _norms[cell] = TensorPrimitives.Norm(vector);
        Volatile.Write(ref _cells, cell + 1);
        return cell;
    }
}
