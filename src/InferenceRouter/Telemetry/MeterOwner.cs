using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The <see cref="InferenceRouterTelemetry.MeterName"/> meter of one component: from the app's <see cref="IMeterFactory"/> (which owns it), or a private one disposed with the component.</summary>
internal abstract class MeterOwner : IDisposable
{
    private readonly bool _ownsMeter;

    protected MeterOwner(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(InferenceRouterTelemetry.MeterName) ?? new Meter(InferenceRouterTelemetry.MeterName);
    }

    protected Meter Meter { get; }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
