using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>How one admitted attempt ended, for its <see cref="IRouteAttemptObserver"/>.</summary>
public sealed class RouteAttemptReport
{
    internal RouteAttemptReport(ChatRoute route, RouteAttemptOutcome outcome, bool producedOutput, UsageDetails? usage, string? outputText, Exception? error, TimeSpan duration)
    {
        Route = route;
        Outcome = outcome;
        ProducedOutput = producedOutput;
        Usage = usage;
        OutputText = outputText;
        Error = error;
        Duration = duration;
    }

    /// <summary>Gets the route.</summary>
    public ChatRoute Route { get; }

    /// <summary>
    /// Gets how the attempt ended: <see cref="RouteAttemptOutcome.Succeeded"/> (answered; a stream that ended normally),
    /// <see cref="RouteAttemptOutcome.Failed"/>, <see cref="RouteAttemptOutcome.TimedOut"/>, <see cref="RouteAttemptOutcome.Cancelled"/>
    /// (the caller cancelled or stopped reading, or the attempt lost a hedge) or <see cref="RouteAttemptOutcome.Skipped"/> (never sent:
    /// another hook denied it or its circuit was open).
    /// </summary>
    public RouteAttemptOutcome Outcome { get; }

    /// <summary>Gets a value indicating whether the provider produced anything it bills for (an answer, a partial stream, usage).</summary>
    public bool ProducedOutput { get; }

    /// <summary>Gets the usage the provider reported, or null.</summary>
    public UsageDetails? Usage { get; }

    /// <summary>Gets the text the provider produced, when its usage did not report output tokens (to count them); else null.</summary>
    public string? OutputText { get; }

    /// <summary>Gets the attempt's error, for failed, timed-out and cancelled attempts.</summary>
    public Exception? Error { get; }

    /// <summary>Gets how long the attempt took (for streams, until the stream ended).</summary>
    public TimeSpan Duration { get; }
}
