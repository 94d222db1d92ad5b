using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace InferenceRouter.Benchmarks;

/// <summary>Adds the median, the 95th percentile and the maximum, for benchmarks whose tail matters (network round trips).</summary>
public sealed class PercentileConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public PercentileConfig() => AddColumn(StatisticColumn.P50, StatisticColumn.P95, StatisticColumn.Max);
}
