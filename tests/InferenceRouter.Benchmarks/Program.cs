using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// --quick: one launch, few short iterations (a few minutes for everything); otherwise BenchmarkDotNet's defaults.
// --in-process: run the benchmarks in this process (no per-run project build: on a busy 2-core machine that build can time out).
bool quick = args.Contains("--quick");
bool inProcess = args.Contains("--in-process");
var config = DefaultConfig.Instance;
if (quick || inProcess)
{
    var job = quick ? Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8).WithIterationTime(TimeInterval.FromMilliseconds(250)) : Job.Default;
    config = config.AddJob(inProcess ? job.WithToolchain(InProcessEmitToolchain.Instance) : job);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args.Where(a => a is not "--quick" and not "--in-process")], config);
