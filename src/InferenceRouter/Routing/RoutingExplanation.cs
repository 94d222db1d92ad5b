using System.Text;

namespace InferenceRouter;

/// <summary>"Why this route?": the candidates for a request in failover order, each policy's verdicts, and the routes ruled out.</summary>
/// <param name="Policy">The policy that ran.</param>
/// <param name="Routes">Every route: candidates in rank order first, then excluded ones.</param>
public sealed record RoutingExplanation(string Policy, IReadOnlyList<RouteExplanation> Routes)
{
    /// <summary>Gets the candidates in the order the router would try them.</summary>
    public IEnumerable<RouteExplanation> Candidates => Routes.Where(r => r.Rank is not null);

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder($"policy {Policy}");
        foreach (var route in Routes)
        {
            text.Append('\n').Append(route.Rank is { } rank ? $"  #{rank} {route.Route} (score {route.Score:G4})" : $"  -- {route.Route} excluded: {route.ExclusionReason}");
            foreach (var verdict in route.Verdicts)
            {
                text.Append("\n       ").Append(verdict);
            }
        }

        return text.ToString();
    }
}
