namespace InferenceRouter;

/// <summary>
/// Thrown by the circuit breaker's predicate for an attempt that was cancelled, so the breaker records neither a success nor a
/// failure; the attempt catches it and carries on with the cancellation inside.
/// </summary>
internal sealed class NeutralOutcomeException(OperationCanceledException cancellation) : Exception(cancellation.Message, cancellation);
