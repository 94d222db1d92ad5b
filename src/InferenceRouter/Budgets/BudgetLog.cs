using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The budget's log messages. None carries message content.</summary>
internal static partial class BudgetLog
{
    [LoggerMessage(101, LogLevel.Warning, "Model {Model} has no price (route {Route}); treating it as free as configured (UnknownModelPricing = Free). Add it under InferenceRouter:Budgets:Prices to count its cost.")]
    public static partial void UnknownModelFree(ILogger logger, string model, string? route);

    [LoggerMessage(102, LogLevel.Information, "Budget {Limit} ({Enforcement}) cannot take a call on {Route}: spent {Spent}, reserved {Reserved}, limit {Limit2}, estimate {Estimate}.")]
    public static partial void Denied(ILogger logger, string limit, BudgetEnforcement enforcement, string route, decimal spent, decimal reserved, decimal limit2, decimal estimate);

    [LoggerMessage(103, LogLevel.Warning, "Budget {Limit} [{ScopeValue}] crossed {Percent:P0} of its limit: spent {Spent} of {Amount}.")]
    public static partial void ThresholdCrossed(ILogger logger, string limit, string scopeValue, double percent, decimal spent, decimal amount);

    [LoggerMessage(104, LogLevel.Warning, "A call on {Route} cost {Cost}, more than the {Reserved} reserved for it (the provider exceeded the output limit, or the prompt estimate was low).")]
    public static partial void CostOverReservation(ILogger logger, string route, decimal cost, decimal reserved);
}
