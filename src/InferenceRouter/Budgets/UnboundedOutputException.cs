namespace InferenceRouter;

/// <summary>
/// The budget's refusal of a call whose output nothing bounds: a raw request on a client that lets its own output limit win, to a route
/// that declares no maximum. Callers see an <see cref="InvalidOperationException"/> naming the route and the fixes.
/// </summary>
internal sealed class UnboundedOutputException(string message, bool endsCall) : InvalidOperationException(message)
{
    /// <summary>Gets a value indicating whether a <see cref="BudgetEnforcement.Reject"/> limit applies, so the call fails rather than skipping the route.</summary>
    public bool EndsCall { get; } = endsCall;
}
