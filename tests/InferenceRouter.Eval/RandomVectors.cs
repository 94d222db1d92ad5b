using System.Numerics.Tensors;

namespace InferenceRouter.Eval;

/// <summary>Random unit vectors for index tests and benchmarks, optionally near a given one (cosine ≈ 0.8 for noise 0.7).</summary>
public static class RandomVectors
{
    public static float[] Normalized(Random random, int dims, float[]? around = null, float noise = 0)
    {
        ArgumentNullException.ThrowIfNull(random);
        var vector = new float[dims];
        for (int i = 0; i < dims; i++)
        {
            // Box-Muller: Gaussian components give uniformly spread directions.
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            vector[i] = (around is null ? 0 : around[i]) + ((around is null ? 1 : noise / MathF.Sqrt(dims)) * (float)gaussian);
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}
