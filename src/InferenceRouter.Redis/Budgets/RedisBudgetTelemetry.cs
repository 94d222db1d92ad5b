using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The Redis ledger's instruments: what Redis did not answer, what was admitted while failing open, and what was sent once it answered.</summary>
/// <remarks>The meter comes from the app's <see cref="IMeterFactory"/> (which owns it), or is a private one disposed with the ledger.</remarks>
internal sealed class RedisBudgetTelemetry : IDisposable
{
    private readonly Meter? _ownMeter;
    private readonly Counter<long> _unavailable;
    private readonly Counter<long> _failOpen;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _damaged;
    private readonly Counter<long> _rejected;

    public RedisBudgetTelemetry(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(InferenceRouterTelemetry.MeterName) ?? (_ownMeter = new Meter(InferenceRouterTelemetry.MeterName));
        _unavailable = meter.CreateCounter<long>(InferenceRouterTelemetry.LedgerUnavailableInstrument, "{operation}", "Shared-ledger operations Redis did not answer in time.");
        _failOpen = meter.CreateCounter<long>(InferenceRouterTelemetry.FailOpenReservationsInstrument, "{reservation}", "Reservations admitted locally while Redis was unreachable.");
        _sent = meter.CreateCounter<long>(InferenceRouterTelemetry.FailOpenSentInstrument, "{step}", "Fail-open steps sent to Redis once it answered.");
        _damaged = meter.CreateCounter<long>(InferenceRouterTelemetry.LedgerDamagedRecordsInstrument, "{record}", "Damaged shared-ledger records found (only the calls touching them fail).");
        _rejected = meter.CreateCounter<long>(InferenceRouterTelemetry.FailOpenRejectedInstrument, "{record}", "Fail-open journal records set aside because they cannot be sent.");
    }

    public void Unavailable() => _unavailable.Add(1);

    public void FailedOpen() => _failOpen.Add(1);

    public void Sent(int steps) => _sent.Add(steps);

    public void Damaged(string record) => _damaged.Add(1, new KeyValuePair<string, object?>("inference_router.budget.record", record));

    public void Rejected() => _rejected.Add(1);

    public void Dispose() => _ownMeter?.Dispose();
}
