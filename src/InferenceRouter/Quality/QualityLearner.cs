using System.Numerics.Tensors;

namespace InferenceRouter;

/// <summary>
/// Learns the app's own difficulty model from recorded outcomes of the cheapest tier: ridge regression of "the cheapest tier failed" on
/// the prompt's text features and embedding, pulled toward the prior's weights instead of toward zero, so with few outcomes it is the
/// prior and with many it is the app's. It keeps XᵀX and Xᵀy (no prompt is kept) and refits by Cholesky off the call path.
/// </summary>
/// <remarks>
/// Measured with a prior trained on MMLU and outcomes from GSM8K (another domain): APGR 0.46–0.50 on the prior alone, 0.59–0.61 once the
/// app's outcomes are learned (docs/quality-routing.md). Not thread-safe: the predictor calls it under its record lock and publishes the
/// weights it returns.
/// </remarks>
internal sealed class QualityLearner
{
    /// <summary>The ridge penalty per outcome, as the prior was trained with.</summary>
    private const double Lambda = 0.01;

    /// <summary>How many outcomes' worth the prior's weights count before any outcome (keeps the first refits close to the prior).</summary>
    private const double PriorStrength = 25;

    private readonly float[] _priorWeights;
    private readonly double[] _gram;
    private readonly double[] _moments;

    public QualityLearner(float[] priorWeights)
    {
        _priorWeights = priorWeights;
        Length = priorWeights.Length;
        _gram = new double[Length * (Length + 1) / 2];
        _moments = new double[Length];
    }

    /// <summary>Gets the number of weights: the text features, then the embedding's dimensions.</summary>
    public int Length { get; }

    /// <summary>Gets how many outcomes were learned.</summary>
    public long Count { get; private set; }

    /// <summary>Adds one outcome of the cheapest tier: <paramref name="failure"/> is 1 − its score.</summary>
    public void Add(ReadOnlySpan<float> row, double failure)
    {
        for (int i = 0, at = 0; i < Length; i++)
        {
            double xi = row[i];
            _moments[i] += xi * failure;
            if (xi == 0)
            {
                at += i + 1;
                continue;
            }

            for (int j = 0; j <= i; j++)
            {
                _gram[at++] += xi * row[j];
            }
        }

        Count++;
    }

    /// <summary>Solves (XᵀX + λI)·w = Xᵀy + λ·w₀ with λ = 0.01·n + 25: the ridge the prior was trained with, centred on the prior.</summary>
    public float[] Fit()
    {
        double lambda = (Lambda * Count) + PriorStrength * Lambda;
        int n = Length;
        var l = new double[n * n];
        for (int i = 0, at = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                l[(i * n) + j] = _gram[at++];
            }

            l[(i * n) + i] += lambda;
        }

        // Cholesky in place (lower triangle), then two triangular solves.
        for (int j = 0; j < n; j++)
        {
            var rowJ = l.AsSpan(j * n, j);
            double diagonal = l[(j * n) + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            l[(j * n) + j] = Math.Sqrt(Math.Max(diagonal, 1e-12));
            for (int i = j + 1; i < n; i++)
            {
                l[(i * n) + j] = (l[(i * n) + j] - TensorPrimitives.Dot<double>(l.AsSpan(i * n, j), rowJ)) / l[(j * n) + j];
            }
        }

        var z = new double[n];
        for (int i = 0; i < n; i++)
        {
            z[i] = (_moments[i] + (lambda * _priorWeights[i]) - TensorPrimitives.Dot<double>(l.AsSpan(i * n, i), z.AsSpan(0, i))) / l[(i * n) + i];
        }

        var w = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = z[i];
            for (int k = i + 1; k < n; k++)
            {
                s -= l[(k * n) + i] * w[k];
            }

            w[i] = s / l[(i * n) + i];
        }

        return [.. w.Select(v => (float)v)];
    }

    /// <summary>Copies the sums out, for saving: the packed lower triangle of XᵀX, then Xᵀy.</summary>
    public (double[] Gram, double[] Moments) Export() => ((double[])_gram.Clone(), (double[])_moments.Clone());

    /// <summary>Restores saved sums.</summary>
    public void Import(ReadOnlySpan<double> gram, ReadOnlySpan<double> moments, long count)
    {
        gram.CopyTo(_gram);
        moments.CopyTo(_moments);
        Count = count;
    }

    /// <summary>Gets the sizes <see cref="Import"/> expects.</summary>
    public int GramLength => _gram.Length;
}
