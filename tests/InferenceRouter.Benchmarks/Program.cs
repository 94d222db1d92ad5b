using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// --quick: one launch, few short iterations (a few minutes for everything); otherwise BenchmarkDotNet's defaults.
bool quick = args.Contains("--quick");
var config = DefaultConfig.Instance;
if (quick)
{
    config = config.AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8).WithIterationTime(TimeInterval.FromMilliseconds(250)));
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args.Where(a => a != "--quick")], config);
