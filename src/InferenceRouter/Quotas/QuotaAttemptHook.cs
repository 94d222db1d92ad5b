namespace InferenceRouter;

/// <summary>
/// The routes' quotas as an admission rule: the router installs it when a route has a quota, and it runs before each attempt, before the
/// layers' hooks (a budget), so a full route is skipped before anything is reserved for it. A route with no quota is admitted at once.
/// </summary>
/// <remarks>Stateless and thread-safe: each route's quota lives on the route (<see cref="ChatRoute.Quota"/>).</remarks>
internal sealed class QuotaAttemptHook : IRouteAttemptHook
{
    public static QuotaAttemptHook Instance { get; } = new();

    private QuotaAttemptHook()
    {
    }

    public ValueTask<RouteAdmission> AdmitAsync(RouteAttemptContext attempt, CancellationToken cancellationToken)
    {
        if (attempt.Route.Quota is not { } quota)
        {
            return new(RouteAdmission.Admitted);
        }

        long tokens = quota.CountsTokens ? attempt.PromptTokenUpperBound + (attempt.Options?.MaxOutputTokens ?? attempt.Route.Descriptor.MaxOutputTokens ?? 0) : 0;
        return new(quota.Admit(tokens));
    }
}
