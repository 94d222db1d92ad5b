namespace InferenceRouter;

/// <summary>Picks two candidates at random and puts the less busy first (then the other); the rest follow by in-flight count.</summary>
/// <remarks>Spreads load almost as well as least-in-flight while avoiding the herd that follows one stale "least busy" reading (as in YARP).</remarks>
internal sealed class PowerOfTwoChoicesRanker : IRoutingPolicy
{
    /// <inheritdoc/>
    public string Name => "power-of-two-choices";

    /// <inheritdoc/>
    public void Apply(RouteSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        int candidates = 0;
        for (int i = 0; i < selection.Count; i++)
        {
            if (!selection.IsExcluded(i))
            {
                candidates++;
            }
        }

        if (candidates == 0)
        {
            return;
        }

        // Two distinct random ranks among the candidates; the chosen two score below every other route.
        int first = Random.Shared.Next(candidates);
        int second = candidates > 1 ? (first + 1 + Random.Shared.Next(candidates - 1)) % candidates : first;
        int rank = 0;
        for (int i = 0; i < selection.Count; i++)
        {
            if (selection.IsExcluded(i))
            {
                continue;
            }

            long inFlight = selection.Routes[i].Health.InFlight;
            bool chosen = rank == first || rank == second;
            selection.SetScore(i, this, chosen ? -1.0 / (inFlight + 1) : inFlight);
            rank++;
        }
    }
}
