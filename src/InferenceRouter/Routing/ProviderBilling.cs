namespace InferenceRouter;

/// <summary>
/// Whether a provider may bill an attempt that failed before it answered. A budget releases a reservation only when the request cannot
/// have been billed; when that cannot be known, it charges (docs/budgets.md, "What a call that did not answer is charged").
/// </summary>
internal static class ProviderBilling
{
    private const string NotSentKey = "InferenceRouter.RequestNotSent";

    /// <summary>
    /// Marks an exception the provider's client threw before it returned its pending call: it cannot have sent anything (an async SDK
    /// sends from inside the task it returns, so a synchronous throw is argument or configuration checking).
    /// </summary>
    /// <param name="error">The exception.</param>
    /// <returns>The same exception.</returns>
    public static Exception MarkNotSent(Exception error)
    {
        try
        {
            error.Data[NotSentKey] = true;
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            // An exception type with read-only data: it stays unmarked, so it is charged (the safe side).
        }

        return error;
    }

    /// <summary>
    /// Whether the provider may bill an attempt that failed with <paramref name="error"/>, classified as <paramref name="classification"/>.
    /// Not billed: the client threw before sending (<see cref="MarkNotSent"/>), the connection never opened, or the provider refused with a
    /// status that means it generated nothing (4xx but 408, and 503 or 529: overloaded). Everything else may have been (a timeout, a reset or
    /// cut connection, a 500, 502 or 504 after the model may have run, an unreadable answer, an error event, a cancellation).
    /// </summary>
    /// <param name="error">The attempt's exception.</param>
    /// <param name="classification">Its classification; default for a cancellation (not classified).</param>
    /// <returns><see langword="true"/> when it must be charged.</returns>
    public static bool MayHaveBilled(Exception error, in FailureClassification classification)
    {
        if (classification.IsConnectionFailure)
        {
            return false;
        }

        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e.Data.Contains(NotSentKey))
            {
                return false; // also when the attempt's end wrapped it (a cancellation explained as such)
            }
        }

        return classification.StatusCode is not ({ } status and ((>= 400 and < 500 and not 408) or 503 or 529));
    }
}
