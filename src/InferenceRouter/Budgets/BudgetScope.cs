namespace InferenceRouter;

/// <summary>What a budget limit is counted over.</summary>
public enum BudgetScope
{
    /// <summary>Every call through the budget client.</summary>
    Global,

    /// <summary>Calls for one tenant (<see cref="RoutingHints.Tenant"/>).</summary>
    Tenant,

    /// <summary>Calls for one end user (<see cref="RoutingHints.User"/>).</summary>
    User,

    /// <summary>Calls answered by one route.</summary>
    Route,

    /// <summary>Calls answered by one model id.</summary>
    Model,

    /// <summary>Calls answered by routes carrying one tag (<c>key=value</c>).</summary>
    Tag,
}
