using System.Runtime.CompilerServices;

namespace InferenceRouter;

/// <summary>Continues on the thread pool: generation is compute, and must not run on a caller's UI or request thread between tokens.</summary>
internal readonly struct ThreadPoolYield : ICriticalNotifyCompletion
{
    public bool IsCompleted => false;

    public ThreadPoolYield GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: true);

    public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: true);
}
