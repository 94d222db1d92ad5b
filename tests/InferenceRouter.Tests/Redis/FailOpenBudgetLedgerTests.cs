using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace InferenceRouter.Tests.Redis;

/// <summary>Fail open is a ledger of its own: it wraps any ledger that can adopt reservations, with no Redis behind it.</summary>
public sealed class FailOpenBudgetLedgerTests
{
    private static readonly BudgetAccount[] Tenant = [new(new BudgetAccountKey("tenant", "acme", DateTimeOffset.UnixEpoch), 10m, TimeSpan.Zero)];

    [Fact]
    public async Task While_the_inner_ledger_is_away_spend_is_capped_locally_then_each_step_is_adopted_once_in_order()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var inner = new AwayLedger { Away = true };
        using var telemetry = new RedisBudgetTelemetry(meterFactory: null);
        using var ledger = new FailOpenBudgetLedger(inner, 1m, new FailOpenQueue(journalPath: null, NullLogger.Instance), time, NullLogger.Instance, telemetry);
        var expires = time.GetUtcNow().AddMinutes(5);

        var settled = await ledger.ReserveAsync(Tenant, 0.6m, expires);
        (await ledger.ReserveAsync(Tenant, 0.6m, expires)).IsGranted.Should().BeFalse("the cap, not the shared limit, holds while away");
        (await ledger.SettleAsync(settled, 0.5m)).Applied.Should().BeTrue();
        ledger.PendingSteps.Should().Be(2);

        inner.Away = false;
        (await ledger.SendPendingAsync()).Should().Be(2);
        inner.Adopted.Should().Equal([settled.Id, settled.Id], "the reservation, then its settlement");
        inner.Adopted.Clear();
        (await ledger.SendPendingAsync()).Should().Be(0, "each step is sent once");
        (await ledger.ReserveAsync(Tenant, 5m, expires)).IsGranted.Should().BeTrue("back online, the inner ledger decides again");
    }

    /// <summary>An in-memory ledger that can be made unreachable, recording what it adopts.</summary>
    private sealed class AwayLedger : IAdoptingBudgetLedger
    {
        private readonly InMemoryBudgetLedger _ledger = new();

        public bool Away { get; set; }

        public List<string> Adopted { get; } = [];

        public ValueTask<BudgetReservation> ReserveAsync(BudgetAccount[] accounts, decimal amount, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
            Away ? throw new BudgetLedgerUnavailableException("away") : _ledger.ReserveAsync(accounts, amount, expiresAt, cancellationToken);

        public ValueTask<BudgetSettlement> SettleAsync(BudgetReservation reservation, decimal cost, CancellationToken cancellationToken = default) =>
            Away ? throw new BudgetLedgerUnavailableException("away") : _ledger.SettleAsync(reservation, cost, cancellationToken);

        public ValueTask<bool> ReleaseAsync(BudgetReservation reservation, CancellationToken cancellationToken = default) =>
            Away ? throw new BudgetLedgerUnavailableException("away") : _ledger.ReleaseAsync(reservation, cancellationToken);

        public ValueTask<IReadOnlyList<BudgetAccountBalance>> GetBalancesAsync(CancellationToken cancellationToken = default) => _ledger.GetBalancesAsync(cancellationToken);

        public Task AdoptAsync(FailOpenRecord record, CancellationToken cancellationToken)
        {
            if (Away)
            {
                throw new BudgetLedgerUnavailableException("away");
            }

            Adopted.Add(record.Id);
            return Task.CompletedTask;
        }
    }
}
