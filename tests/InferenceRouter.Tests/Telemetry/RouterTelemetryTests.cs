using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Telemetry;

/// <remarks>Each test has its own meter factory (metrics) and unique route names (spans), so parallel tests cannot interfere.</remarks>
public class RouterTelemetryTests
{
    private readonly IMeterFactory _meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    [Fact]
    public async Task Attempts_failovers_and_durations_are_recorded_by_route_and_outcome()
    {
        using var router = new RouterChatClient(
            [Of("a", TestChatClient.Failing(new HttpRequestException("down", null, HttpStatusCode.ServiceUnavailable))), Of("b", TestChatClient.Answering("ok"))],
            meterFactory: _meters);
        using var attempts = new MetricCollector<long>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.AttemptsInstrument);
        using var failovers = new MetricCollector<long>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.FailoversInstrument);
        using var durations = new MetricCollector<double>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.DurationInstrument);

        await router.GetResponseAsync(Prompt());

        attempts.GetMeasurementSnapshot().Select(m => ((string?)m.Tags["inference_router.route"], (string?)m.Tags["inference_router.outcome"]))
            .Should().Contain([("a", "failed"), ("b", "succeeded")]);
        failovers.GetMeasurementSnapshot().Should().Contain(m => (string?)m.Tags["inference_router.route"] == "a" && (string?)m.Tags["error.type"] == typeof(HttpRequestException).FullName);
        durations.GetMeasurementSnapshot().Should().Contain(m => (string?)m.Tags["inference_router.route"] == "b" && (string?)m.Tags["gen_ai.request.model"] == "b-model");
    }

    [Fact]
    public async Task A_call_span_has_one_child_span_per_attempt()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == InferenceRouterTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (stopped) { stopped.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);
        string a = "a-" + Guid.NewGuid(), b = "b-" + Guid.NewGuid();
        using var router = Router(Of(a, TestChatClient.Failing(new TimeoutException("slow"))), Of(b, TestChatClient.Answering("ok")));

        await router.GetResponseAsync(Prompt());

        Activity call;
        lock (stopped)
        {
            call = stopped.Single(x => x.OperationName == "route chat" && (string?)x.GetTagItem("inference_router.route") == b);
        }

        var children = stopped.Where(x => x.OperationName == "route attempt" && x.ParentSpanId == call.SpanId).ToList();
        children.Select(x => x.GetTagItem("inference_router.route")).Should().Equal(a, b);
        children[0].Status.Should().Be(ActivityStatusCode.Error);
    }

    [Fact]
    public void Gauges_report_circuit_state_and_in_flight_per_route()
    {
        using var router = new RouterChatClient([Of("a", TestChatClient.Answering("ok"))], meterFactory: _meters);
        using var inFlight = new MetricCollector<long>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.InFlightInstrument);
        router.GetRoute("a").Health.OnAttemptStarted(TimeProvider.System.GetTimestamp());

        inFlight.RecordObservableInstruments();

        inFlight.GetMeasurementSnapshot().Should().Contain(m => (string?)m.Tags["inference_router.route"] == "a" && m.Value == 1);
    }
}
