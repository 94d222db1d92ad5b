using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The router's activity source and instruments. Recording is skipped when nobody listens.</summary>
internal sealed class RouterTelemetry : MeterOwner
{
    internal static readonly ActivitySource ActivitySource = new(InferenceRouterTelemetry.SourceName, typeof(RouterTelemetry).Assembly.GetName().Version?.ToString());


    public RouterTelemetry(IMeterFactory? meterFactory, IReadOnlyList<ChatRoute> routes)
        : base(meterFactory)
    {
        Attempts = Meter.CreateCounter<long>(InferenceRouterTelemetry.AttemptsInstrument, "{attempt}", "Attempts by route and outcome.");
        Failovers = Meter.CreateCounter<long>(InferenceRouterTelemetry.FailoversInstrument, "{failover}", "Failovers from a failed route to the next candidate.");
        Duration = Meter.CreateHistogram<double>(InferenceRouterTelemetry.DurationInstrument, "s", "Duration of routed chat calls.");
        TimeToFirstToken = Meter.CreateHistogram<double>(InferenceRouterTelemetry.TimeToFirstTokenInstrument, "s", "Time to the first streamed update, by route.");
        Meter.CreateObservableGauge(InferenceRouterTelemetry.CircuitStateInstrument, () => Observe(routes, r => (long)r.Health.CircuitState), description: "Circuit state by route: 0 closed, 1 open, 2 half-open, 3 isolated, 4 misconfigured.");
        Meter.CreateObservableGauge(InferenceRouterTelemetry.InFlightInstrument, () => Observe(routes, r => r.Health.InFlight), "{attempt}", "Attempts in flight by route.");
    }

    public Counter<long> Attempts { get; }

    public Counter<long> Failovers { get; }

    public Histogram<double> Duration { get; }

    public Histogram<double> TimeToFirstToken { get; }

    public static Activity? StartCall(bool streaming) =>
        ActivitySource.StartActivity(streaming ? "route chat stream" : "route chat", ActivityKind.Internal)?.SetTag("gen_ai.operation.name", "chat");

    public static Activity? StartAttempt(Activity? call, ChatRoute route)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = call is null
            ? ActivitySource.StartActivity("route attempt", ActivityKind.Internal)
            : ActivitySource.StartActivity("route attempt", ActivityKind.Internal, call.Context);
        return activity?.SetTag("inference_router.route", route.Name).SetTag("gen_ai.request.model", route.Descriptor.ModelId).SetTag("gen_ai.provider.name", route.ProviderName);
    }

    public void RecordAttempt(ChatRoute route, RouteAttemptOutcome outcome)
    {
        if (Attempts.Enabled)
        {
            Attempts.Add(1, new KeyValuePair<string, object?>("inference_router.route", route.Name), new KeyValuePair<string, object?>("inference_router.outcome", OutcomeName(outcome)));
        }
    }

    public void RecordFailover(ChatRoute route, Exception error)
    {
        if (Failovers.Enabled)
        {
            Failovers.Add(1, new KeyValuePair<string, object?>("inference_router.route", route.Name), new KeyValuePair<string, object?>("error.type", error.GetType().FullName));
        }
    }

    public void RecordDuration(ChatRoute route, string? responseModel, TimeSpan duration, Exception? error)
    {
        if (Duration.Enabled)
        {
            var tags = new TagList
            {
                { "gen_ai.operation.name", "chat" },
                { "gen_ai.request.model", route.Descriptor.ModelId },
                { "gen_ai.response.model", responseModel },
                { "gen_ai.provider.name", route.ProviderName },
                { "inference_router.route", route.Name },
            };
            if (error is not null)
            {
                tags.Add("error.type", error.GetType().FullName);
            }

            Duration.Record(duration.TotalSeconds, tags);
        }
    }

    public void RecordTimeToFirstToken(ChatRoute route, TimeSpan ttft)
    {
        if (TimeToFirstToken.Enabled)
        {
            TimeToFirstToken.Record(ttft.TotalSeconds, new KeyValuePair<string, object?>("inference_router.route", route.Name));
        }
    }

    internal static string OutcomeName(RouteAttemptOutcome outcome) => outcome switch
    {
        RouteAttemptOutcome.Succeeded => "succeeded",
        RouteAttemptOutcome.Failed => "failed",
        RouteAttemptOutcome.TimedOut => "timed_out",
        RouteAttemptOutcome.Cancelled => "cancelled",
        _ => "skipped",
    };

    private static IEnumerable<Measurement<long>> Observe(IReadOnlyList<ChatRoute> routes, Func<ChatRoute, long> value)
    {
        foreach (var route in routes)
        {
            yield return new Measurement<long>(value(route), new KeyValuePair<string, object?>("inference_router.route", route.Name));
        }
    }
}
