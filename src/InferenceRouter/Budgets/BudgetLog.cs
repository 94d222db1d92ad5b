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

    [LoggerMessage(105, LogLevel.Warning, "A call on {Route} settled after its reservation {Reservation} expired (ReservationTimeout {Timeout}): expiry had charged {Reserved}, the real cost {Cost} replaces it. Raise ReservationTimeout above your longest call.")]
    public static partial void SettledAfterExpiry(ILogger logger, string route, string reservation, decimal cost, decimal reserved, TimeSpan timeout);

    [LoggerMessage(106, LogLevel.Error, "A ThresholdCrossed handler for budget {Limit} threw {ErrorType}; the call keeps its answer and its charge.")]
    public static partial void ThresholdHandlerFailed(ILogger logger, string limit, string errorType, Exception exception);

    [LoggerMessage(107, LogLevel.Error, "Settling or releasing a call on {Route} failed in the ledger ({ErrorType}); its reservation stays held until it expires, when it is charged.")]
    public static partial void SettleFailed(ILogger logger, string route, string errorType, Exception exception);

    [LoggerMessage(108, LogLevel.Information, "Budget limits scoped to every tenant ({Limits}) reject calls that name no tenant (UnknownTenant = Reject).")]
    public static partial void UnknownTenantRejected(ILogger logger, string limits);

    [LoggerMessage(109, LogLevel.Information, "Budget limits scoped to every tenant ({Limits}) charge calls that name no tenant to one shared account {Account} (UnknownTenant = SharedAccount).")]
    public static partial void UnknownTenantShared(ILogger logger, string limits, string account);

    [LoggerMessage(110, LogLevel.Warning, "Budget limits scoped to every tenant ({Limits}) do not check calls that name no tenant (UnknownTenant = Allow): such calls spend without a tenant limit.")]
    public static partial void UnknownTenantAllowed(ILogger logger, string limits);

    [LoggerMessage(111, LogLevel.Information, "A call on {Route} ended before it answered in full ({Why}): charged an estimate of {Cost} ({OutputTokens} output tokens), since its provider may bill it.")]
    public static partial void ChargedEstimate(ILogger logger, string route, string why, decimal cost, long outputTokens);
}
