using System.Runtime.ExceptionServices;

namespace InferenceRouter;

/// <summary>
/// What one call's failover has learned from refusals that were the request's, not a route's (a prompt too long for a route's context
/// window, a content filter, something the model cannot do): which routes can still help, and the refusal to surface when no route
/// was tried after it.
/// </summary>
/// <remarks>
/// After a context-length refusal only routes whose declared <see cref="RouteDescriptor.ContextWindow"/> is larger than the refusing
/// route's are tried (any declared window when the refusing route declares none); routes that declare no window are skipped, since
/// nothing says they can hold more. Per call, on the stack: no allocation.
/// </remarks>
internal struct RequestRefusal
{
    private Exception? _error;
    private int _windowFloor;
    private bool _needsLargerWindow;

    /// <summary>Whether <paramref name="route"/> may still be tried.</summary>
    public readonly bool Admits(ChatRoute route) => !_needsLargerWindow || route.Descriptor.ContextWindow > _windowFloor;

    /// <summary>Takes in a failed (or skipped) attempt the call fails over from.</summary>
    public RequestRefusal After<T>(in AttemptResult<T> result)
    {
        if (result.Outcome is RouteAttemptOutcome.Skipped or RouteAttemptOutcome.NotAdmitted or RouteAttemptOutcome.Cancelled)
        {
            return this; // nothing was asked of the provider
        }

        switch (result.Classification.EffectiveKind)
        {
            case FailureKind.ContextLengthExceeded:
                _error = result.Error;
                _windowFloor = Math.Max(_windowFloor, result.Route.Descriptor.ContextWindow ?? 0);
                _needsLargerWindow = true;
                break;
            case FailureKind.ContentFiltered or FailureKind.UnsupportedRequest:
                _error = result.Error;
                break;
            default:
                _error = null; // a route's own failure after the refusal: the call ends as every route failing, listing both
                break;
        }

        return this;
    }

    /// <summary>When the call's last word was such a refusal and no route was left to try, surfaces it as the provider sent it.</summary>
    public readonly void ThrowIfAny()
    {
        if (_error is not null)
        {
            ExceptionDispatchInfo.Capture(_error).Throw();
        }
    }
}
