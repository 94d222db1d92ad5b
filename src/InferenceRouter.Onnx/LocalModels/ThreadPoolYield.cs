using System.Runtime.CompilerServices;

namespace InferenceRouter;

/// <summary>Continues on the thread pool: generation is compute, and must not run on a UI thread (or a custom scheduler) between tokens.</summary>
internal readonly struct ThreadPoolYield : ICriticalNotifyCompletion
{
    /// <summary>Gets a value indicating whether the current thread belongs to someone else: a synchronization context or a custom scheduler.</summary>
    public static bool IsNeeded => SynchronizationContext.Current is not null || TaskScheduler.Current != TaskScheduler.Default;

    public bool IsCompleted => false;

    public ThreadPoolYield GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: true);

    public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: true);
}
