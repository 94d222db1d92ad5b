namespace InferenceRouter;

/// <summary>
/// Paces a policy's latency probes: at most one per <c>1 / rate</c> attempts on all routes, so a quiet app does not spend its
/// calls re-measuring slow routes, while a busy one still probes each stale route about once per probe interval.
/// </summary>
internal sealed class ProbePacer
{
    private readonly double _attemptsPerProbe;
    private long _lastProbe;

    public ProbePacer(double rate) => _attemptsPerProbe = rate > 0 ? 1 / rate : double.PositiveInfinity;

    /// <summary>Returns whether this call may probe (none yet, and enough attempts since the last probe); gives the attempt count for <see cref="TryProbe"/>.</summary>
    public bool MayProbe(RouteSelection selection, out long attempts)
    {
        attempts = 0;
        if (selection.ProbeIndex >= 0 || double.IsInfinity(_attemptsPerProbe))
        {
            return false;
        }

        attempts = selection.CountAllAttempts();
        return attempts - Volatile.Read(ref _lastProbe) >= _attemptsPerProbe;
    }

    /// <summary>Makes route <paramref name="index"/> this call's probe when it is due (unmeasured for its probe interval); an explanation only tells.</summary>
    public bool TryProbe(RouteSelection selection, int index, long attempts)
    {
        if (!selection.Routes[index].Health.TryClaimProbe(claim: !selection.IsExplaining))
        {
            return false;
        }

        if (!selection.IsExplaining)
        {
            Volatile.Write(ref _lastProbe, attempts);
        }

        selection.ProbeIndex = index;
        return true;
    }
}
