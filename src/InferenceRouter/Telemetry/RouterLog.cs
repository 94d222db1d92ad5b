using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>
/// The router's log messages. None carries message content or credentials: error text goes through <see cref="ErrorText"/>, and no
/// exception object is handed to the logger (a sink would write its whole message, and a provider's can echo the prompt or the key):
/// failures are logged as their type, status, scrubbed message, causes and stack trace.
/// </summary>
internal static partial class RouterLog
{
    [LoggerMessage(1, LogLevel.Debug, "Routing call to {Route} (attempt {Attempt} of {Candidates} candidate(s), policy {Policy}).")]
    public static partial void Attempting(ILogger logger, string route, int attempt, int candidates, string policy);

    // One line per failed attempt at Warning (a flaky provider must not flood logs with stack traces); its causes and stack at Debug.
    [LoggerMessage(2, LogLevel.Warning, "Route {Route} failed after {DurationMs:F0} ms with {ErrorType} (status {Status}): {Error}; failing over.")]
    public static partial void FailingOver(ILogger logger, string route, double durationMs, string errorType, int? status, string error);

    [LoggerMessage(3, LogLevel.Warning, "Route {Route} failed after {DurationMs:F0} ms with non-transient {ErrorType} (status {Status}): {Error}; not failing over.")]
    public static partial void NonTransientFailure(ILogger logger, string route, double durationMs, string errorType, int? status, string error);

    [LoggerMessage(16, LogLevel.Debug, "Route {Route}'s failure in full: {Error}\n{StackTrace}")]
    private static partial void LogFailureDetail(ILogger logger, string route, string error, string? stackTrace);

    /// <summary>Logs a failed attempt's causes (each scrubbed) and stack trace, at Debug.</summary>
    public static void FailureDetail(ILogger logger, string route, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogFailureDetail(logger, route, ErrorText.Chain(exception), exception.StackTrace);
        }
    }

    [LoggerMessage(4, LogLevel.Error, "All routes failed: {Attempts} attempt(s), {Excluded} route(s) excluded.")]
    public static partial void AllRoutesFailed(ILogger logger, int attempts, int excluded);

    [LoggerMessage(5, LogLevel.Information, "Route {Route} asked to wait {DelayMs:F0} ms (Retry-After); skipping it until then.")]
    public static partial void RetryAfter(ILogger logger, string route, double delayMs);

    [LoggerMessage(6, LogLevel.Warning, "Circuit of route {Route} opened for {BreakDuration}.")]
    public static partial void CircuitOpened(ILogger logger, string route, TimeSpan breakDuration);

    [LoggerMessage(7, LogLevel.Information, "Circuit of route {Route} is half-open: probing.")]
    public static partial void CircuitHalfOpened(ILogger logger, string route);

    [LoggerMessage(8, LogLevel.Information, "Circuit of route {Route} closed.")]
    public static partial void CircuitClosed(ILogger logger, string route);

    [LoggerMessage(9, LogLevel.Debug, "Hedging: route {Route} started while earlier attempt(s) still run.")]
    public static partial void Hedging(ILogger logger, string route);

    [LoggerMessage(10, LogLevel.Warning, "Stream from route {Route} failed after its first update with {ErrorType}: {Error}; the error reaches the caller (no failover mid-stream).")]
    public static partial void StreamFailed(ILogger logger, string route, string errorType, string error);

    [LoggerMessage(11, LogLevel.Information, "Route {Route} was not admitted for this call ({Reason}); trying the next candidate.")]
    public static partial void NotAdmitted(ILogger logger, string route, string reason);

    [LoggerMessage(12, LogLevel.Warning, "Every remote route tried failed to connect ({Failures} attempt(s)); treating the app as offline for {Interval}: local routes go first.")]
    public static partial void Offline(ILogger logger, int failures, TimeSpan interval);

    [LoggerMessage(13, LogLevel.Information, "Remote route {Route} answered; the app is back online.")]
    public static partial void BackOnline(ILogger logger, string route);

    [LoggerMessage(14, LogLevel.Warning, "Cleaning up a hedged attempt that lost failed with {ErrorType}: {Error}")]
    private static partial void LogHedgeCleanupFailed(ILogger logger, string errorType, string error);

    public static void HedgeCleanupFailed(ILogger logger, string errorType, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            LogHedgeCleanupFailed(logger, errorType, ErrorText.Chain(exception));
        }
    }

    [LoggerMessage(15, LogLevel.Error, "Failure classifier {Classifier} threw while classifying {ErrorType}; the failure counts as not transient. It threw {Error}\n{StackTrace}")]
    private static partial void LogClassifierFailed(ILogger logger, string classifier, string errorType, string error, string? stackTrace);

    public static void ClassifierFailed(ILogger logger, string classifier, string errorType, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            LogClassifierFailed(logger, classifier, errorType, ErrorText.Chain(exception), exception.StackTrace);
        }
    }

    [LoggerMessage(17, LogLevel.Warning, "Route {Route} names the API key variable {Variable}, which is not set; its local server is called without a key.")]
    public static partial void ApiKeyVariableUnset(ILogger logger, string route, string variable);

    [LoggerMessage(18, LogLevel.Warning, "Route {Route} drained by an operator: no call is sent to it until it is restored.")]
    public static partial void RouteDrained(ILogger logger, string route);

    [LoggerMessage(19, LogLevel.Information, "Route {Route} restored: it takes calls again.")]
    public static partial void RouteRestored(ILogger logger, string route);

    [LoggerMessage(20, LogLevel.Warning, "A HealthSignaled handler failed for route {Route} ({ErrorType}); the signal was not shared.")]
    public static partial void HealthSignalFailed(ILogger logger, string route, string errorType, Exception exception);

    [LoggerMessage(40, LogLevel.Error, "An attempt observer ({Observer}) failed after an attempt on route {Route}; the call goes on. It threw {Error}\n{StackTrace}")]
    private static partial void LogObserverFailed(ILogger logger, string route, string observer, string error, string? stackTrace);

    public static void ObserverFailed(ILogger logger, string route, string observer, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            LogObserverFailed(logger, route, observer, ErrorText.Chain(exception), exception.StackTrace);
        }
    }

    [LoggerMessage(41, LogLevel.Warning, "Closing the stream of route {Route} failed ({ErrorType}); the call's accounting went on.")]
    public static partial void StreamDisposeFailed(ILogger logger, string route, string errorType);

    [LoggerMessage(62, LogLevel.Error, "Route {Route} answered HTTP {Status}: it cannot work as configured (check its key, model or deployment, permissions, quota); it is out of service until {Until}, or RestoreRoute(\"{Route}\").")]
    public static partial void RouteMisconfigured(ILogger logger, string route, int? status, string until);

    [LoggerMessage(63, LogLevel.Warning, "Route {Route} is still misconfigured (HTTP {Status}); it stays out of service.")]
    public static partial void StillMisconfigured(ILogger logger, string route, int? status);

    [LoggerMessage(64, LogLevel.Information, "Route {Route} answered its probe: back in service.")]
    public static partial void BackInService(ILogger logger, string route);

    [LoggerMessage(65, LogLevel.Information, "Route {Route} is rate limited (status {Status}) without a usable Retry-After; skipping it for {Cooldown} (RateLimitCooldown).")]
    public static partial void RateLimitCooldown(ILogger logger, string route, int? status, TimeSpan cooldown);

    [LoggerMessage(66, LogLevel.Warning, "Route {Route}'s content filter refused the request (status {Status}); trying the next route because ContentPolicyFallback is FailOver.")]
    public static partial void ContentPolicyFallback(ILogger logger, string route, int? status);

    [LoggerMessage(67, LogLevel.Information, "The prompt does not fit route {Route}'s context window ({Window} tokens declared); trying only routes that declare a larger one.")]
    public static partial void ContextWindowFallback(ILogger logger, string route, int? window);
}
