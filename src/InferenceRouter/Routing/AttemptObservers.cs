using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>The observers the admitted hooks of one attempt gave (usually none or one: no array then), told together how it ended.</summary>
internal readonly struct AttemptObservers
{
    private readonly object? _observers; // null, one IRouteAttemptObserver, or an IRouteAttemptObserver[]

    private AttemptObservers(object? observers) => _observers = observers;

    public bool IsEmpty => _observers is null;

    public AttemptObservers Add(IRouteAttemptObserver? observer) => observer is null ? this : _observers switch
    {
        null => new(observer),
        IRouteAttemptObserver one => new(new[] { one, observer }),
        IRouteAttemptObserver[] many => new((IRouteAttemptObserver[])[.. many, observer]),
        _ => this,
    };

    /// <summary>Tells every observer; returns the first cost one gave. An observer that throws is logged: the attempt's end is already decided.</summary>
    public ValueTask<CallCost?> ReportAsync(RouteAttemptReport report, ILogger logger)
    {
        if (_observers is IRouteAttemptObserver one)
        {
            ValueTask<CallCost?> pending;
            try
            {
                pending = one.OnAttemptEndedAsync(report);
            }
            catch (Exception e)
            {
                RouterLog.ObserverFailed(logger, report.Route.Name, one.GetType().Name, e);
                return default;
            }

            return pending.IsCompletedSuccessfully ? pending : AwaitOneAsync(pending, report, one, logger);
        }

        return _observers is IRouteAttemptObserver[] many ? ReportAllAsync(many, report, logger) : default;
    }

    private static async ValueTask<CallCost?> AwaitOneAsync(ValueTask<CallCost?> pending, RouteAttemptReport report, IRouteAttemptObserver observer, ILogger logger)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            RouterLog.ObserverFailed(logger, report.Route.Name, observer.GetType().Name, e);
            return null;
        }
    }

    private static async ValueTask<CallCost?> ReportAllAsync(IRouteAttemptObserver[] observers, RouteAttemptReport report, ILogger logger)
    {
        CallCost? first = null;
        foreach (var observer in observers)
        {
            try
            {
                first ??= await observer.OnAttemptEndedAsync(report).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                RouterLog.ObserverFailed(logger, report.Route.Name, observer.GetType().Name, e);
            }
        }

        return first;
    }
}
