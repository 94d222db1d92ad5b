using System.Diagnostics.Metrics;

namespace InferenceRouter;

/// <summary>The Redis ledger's instruments: what Redis did not answer, what was admitted while failing open, and what was sent once it answered.</summary>
internal sealed class RedisBudgetTelemetry : MeterOwner
{
    private readonly Counter<long> _unavailable;
    private readonly Counter<long> _failOpen;
    private readonly Counter<long> _sent;

    public RedisBudgetTelemetry(IMeterFactory? meterFactory)
        : base(meterFactory)
    {
        _unavailable = Meter.CreateCounter<long>(InferenceRouterTelemetry.LedgerUnavailableInstrument, "{operation}", "Shared-ledger operations Redis did not answer in time.");
        _failOpen = Meter.CreateCounter<long>(InferenceRouterTelemetry.FailOpenReservationsInstrument, "{reservation}", "Reservations admitted locally while Redis was unreachable.");
        _sent = Meter.CreateCounter<long>(InferenceRouterTelemetry.FailOpenSentInstrument, "{step}", "Fail-open steps sent to Redis once it answered.");
    }

    public void Unavailable() => _unavailable.Add(1);

    public void FailedOpen() => _failOpen.Add(1);

    public void Sent(int steps) => _sent.Add(steps);
}
