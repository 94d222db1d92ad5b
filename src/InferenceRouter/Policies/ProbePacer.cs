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

    /// <summary>
    /// Returns whether this call may probe (none yet, and enough attempts since the last probe); gives what <see cref="TryProbe"/> needs:
    /// the attempt count and the clock, read once for all candidates.
    /// </summary>
    public bool MayProbe(RouteSelection selection, out ProbeWindow window)
    {
        window = default;
        if (selection.ProbeIndex >= 0 || double.IsInfinity(_attemptsPerProbe) || selection.Count == 0)
        {
            return false;
        }

        long attempts = selection.CountAllAttempts();
        if (attempts - Volatile.Read(ref _lastProbe) < _attemptsPerProbe)
        {
            return false;
        }

        window = new ProbeWindow(attempts, selection.Routes[0].Health.Now);
        return true;
    }

    /// <summary>Makes route <paramref name="index"/> this call's probe when it is due (unmeasured for its probe interval); an explanation only tells.</summary>
    public bool TryProbe(RouteSelection selection, int index, ProbeWindow window)
    {
        if (!selection.Routes[index].Health.TryClaimProbe(claim: !selection.IsExplaining, window.Now))
        {
            return false;
        }

        if (!selection.IsExplaining)
        {
            Volatile.Write(ref _lastProbe, window.Attempts);
        }

        selection.ProbeIndex = index;
        return true;
    }

    /// <summary>What one call's probe decision reads once: the attempts on all routes and the clock.</summary>
    internal readonly record struct ProbeWindow(long Attempts, long Now);
}
