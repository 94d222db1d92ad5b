namespace InferenceRouter.Eval;

/// <summary>Ridge regression by the normal equations (Cholesky): small, exact and deterministic, enough for a few hundred features.</summary>
public static class Ridge
{
    /// <summary>Fits weights w minimising |Xw − y|² + λ|w|² (the first feature, the constant, is not penalised).</summary>
    public static double[] Fit(IReadOnlyList<float[]> rows, IReadOnlyList<double> targets, double lambda)
    {
        int d = rows[0].Length;
        var a = new double[d, d];
        var b = new double[d];
        for (int r = 0; r < rows.Count; r++)
        {
            var x = rows[r];
            for (int i = 0; i < d; i++)
            {
                if (x[i] == 0)
                {
                    continue;
                }

                b[i] += x[i] * targets[r];
                for (int j = 0; j <= i; j++)
                {
                    a[i, j] += x[i] * x[j];
                }
            }
        }

        for (int i = 1; i < d; i++)
        {
            a[i, i] += lambda * rows.Count;
        }

        a[0, 0] += 1e-9;
        // Cholesky: a = L Lᵀ, in the lower triangle.
        for (int j = 0; j < d; j++)
        {
            double sum = a[j, j];
            for (int k = 0; k < j; k++)
            {
                sum -= a[j, k] * a[j, k];
            }

            a[j, j] = Math.Sqrt(Math.Max(sum, 1e-12));
            for (int i = j + 1; i < d; i++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++)
                {
                    s -= a[i, k] * a[j, k];
                }

                a[i, j] = s / a[j, j];
            }
        }

        var z = new double[d];
        for (int i = 0; i < d; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++)
            {
                s -= a[i, k] * z[k];
            }

            z[i] = s / a[i, i];
        }

        var w = new double[d];
        for (int i = d - 1; i >= 0; i--)
        {
            double s = z[i];
            for (int k = i + 1; k < d; k++)
            {
                s -= a[k, i] * w[k];
            }

            w[i] = s / a[i, i];
        }

        return w;
    }

    public static double Predict(double[] w, float[] x)
    {
        double s = 0;
        for (int i = 0; i < w.Length; i++)
        {
            s += w[i] * x[i];
        }

        return s;
    }
}
