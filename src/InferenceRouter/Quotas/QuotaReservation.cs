namespace InferenceRouter;

/// <summary>
/// What one admitted attempt holds of a route's quota — its token estimate and its concurrency permit — settled exactly once when the
/// attempt ends: the permit released (for streams, when the stream ended, failed or was abandoned), the tokens trued up to the usage the
/// provider reported (given back or taken more), everything given back when the attempt cannot have been billed.
/// </summary>
internal sealed class QuotaReservation(RouteQuotaState quota, long tokens, IDisposable? permit) : IRouteAttemptObserver
{
    private int _settled;

    public ValueTask<CallCost?> OnAttemptEndedAsync(RouteAttemptReport report)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return default; // told twice: the permit and the tokens were settled already
        }

        permit?.Dispose();
        if (!report.MayHaveBeenBilled)
        {
            quota.GiveBack(report, tokens);
        }
        else if (quota.Tokens is { } limiter && Used(report.Usage) is { } used)
        {
            // The estimate was an upper bound of the prompt plus the output limit; the provider counts what was used.
            if (used < tokens)
            {
                limiter.Refund(tokens - used);
            }
            else
            {
                limiter.Charge(used - tokens);
            }
        }

        return default;
    }

    private static long? Used(Microsoft.Extensions.AI.UsageDetails? usage) =>
        usage is null ? null
        : usage.InputTokenCount is null && usage.OutputTokenCount is null ? usage.TotalTokenCount
        : (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0);
}
