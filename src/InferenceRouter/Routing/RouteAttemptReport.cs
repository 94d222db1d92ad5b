using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>How one admitted attempt ended, for its <see cref="IRouteAttemptObserver"/>.</summary>
public sealed class RouteAttemptReport
{
    // The usage the provider reported, or the pending usage of an answer the router stopped waiting for: never both, so one slot (the
    // report is allocated on every call's happy path, and a field more would make it bigger).
    private readonly object? _usage;
    private readonly Flags _flags;

    internal RouteAttemptReport(ChatRoute route, RouteAttemptOutcome outcome, bool producedOutput, UsageDetails? usage, string? outputText, Exception? error, TimeSpan duration)
        : this(route, outcome, producedOutput ? Flags.ProducedOutput | Flags.MayHaveBeenBilled : Flags.None, usage, outputText, error, duration)
    {
    }

    private RouteAttemptReport(ChatRoute route, RouteAttemptOutcome outcome, Flags flags, object? usage, string? outputText, Exception? error, TimeSpan duration)
    {
        Route = route;
        Outcome = outcome;
        _flags = flags;
        _usage = usage;
        OutputText = outputText;
        Error = error;
        Duration = duration;
    }

    [Flags]
    private enum Flags : byte
    {
        None = 0,
        ProducedOutput = 1,
        MayHaveBeenBilled = 2,
        OutputIncomplete = 4,
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
    public bool ProducedOutput => (_flags & Flags.ProducedOutput) != 0;

    /// <summary>
    /// Gets a value indicating whether the provider may bill the attempt although nothing (or not all) came back: its request may have left
    /// (cancelled, timed out, lost a hedge, cut, reset, failed with no status or a server error). False only when it cannot have been billed:
    /// never sent (skipped, its circuit open, the provider's client threw before returning its pending call, the connection never opened) or
    /// refused by the provider before it generated anything (HTTP 4xx except 408, 503 or 529). Always true when <see cref="ProducedOutput"/>.
    /// </summary>
    public bool MayHaveBeenBilled => (_flags & Flags.MayHaveBeenBilled) != 0;

    /// <summary>
    /// Gets a value indicating whether the provider may have generated more than it delivered: a stream that ended before it said the answer was
    /// complete (cut, abandoned by its reader, cancelled, timed out, lost a hedge), or that never delivered its first update.
    /// </summary>
    public bool OutputIncomplete => (_flags & Flags.OutputIncomplete) != 0;

    /// <summary>Gets the usage the provider reported, or null.</summary>
    public UsageDetails? Usage => _usage as UsageDetails;

    /// <summary>
    /// Gets, for a non-streaming answer the router stopped waiting for (the caller cancelled, the attempt timed out), the usage of that answer
    /// if the provider's client still delivers it (null when it ends without one); null when there is no such answer to wait for.
    /// </summary>
    public Task<UsageDetails?>? LateUsage => _usage as Task<UsageDetails?>;

    /// <summary>Gets the text the provider produced, when its usage did not report output tokens (to count them); else null.</summary>
    public string? OutputText { get; }

    /// <summary>Gets the attempt's error, for failed, timed-out and cancelled attempts.</summary>
    public Exception? Error { get; }

    /// <summary>Gets how long the attempt took (for streams, until the stream ended).</summary>
    public TimeSpan Duration { get; }

    /// <summary>The report of an attempt that ended before it delivered an answer (or, for a stream, its first update).</summary>
    internal static RouteAttemptReport Unanswered(ChatRoute route, RouteAttemptOutcome outcome, bool mayHaveBeenBilled, bool streaming, Task<UsageDetails?>? lateUsage, Exception? error, TimeSpan duration) =>
        new(route, outcome, !mayHaveBeenBilled ? Flags.None : streaming ? Flags.MayHaveBeenBilled | Flags.OutputIncomplete : Flags.MayHaveBeenBilled, lateUsage, null, error, duration);

    /// <summary>The report of a stream that ended: normally, or <paramref name="incomplete"/> (before the provider said the answer was complete).</summary>
    internal static RouteAttemptReport StreamEnded(ChatRoute route, RouteAttemptOutcome outcome, bool producedOutput, bool incomplete, UsageDetails? usage, string? outputText, Exception? error, TimeSpan duration) =>
        new(route, outcome, (producedOutput ? Flags.ProducedOutput : Flags.None) | (producedOutput || incomplete ? Flags.MayHaveBeenBilled : Flags.None) | (incomplete ? Flags.OutputIncomplete : Flags.None),
            usage, outputText, error, duration);
}
