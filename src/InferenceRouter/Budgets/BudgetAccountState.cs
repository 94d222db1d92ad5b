namespace InferenceRouter;

/// <summary>One account inside <see cref="InMemoryBudgetLedger"/>, in <see cref="BudgetUnits"/>; every member is guarded by locking the instance.</summary>
/// <remarks>
/// Rolling windows keep spend per slot (a hundredth of the window, at least a second) and drop a slot only when all of it has left
/// the window: spend is forgotten up to one slot late, never early, so a rolling limit is never overspent.
/// </remarks>
internal sealed class BudgetAccountState
{
    private const int SlotsPerWindow = 100;
    private Queue<Slot>? _slots;
    private Slot? _lastSlot;
    private decimal _limitAmount = -1;

    public BudgetAccountState(BudgetAccountKey key, long order, TimeSpan rollingPeriod, DateTimeOffset? windowEnd)
    {
        Key = key;
        WindowEnd = windowEnd;
        Order = order;
        RollingTicks = rollingPeriod.Ticks;
        SlotTicks = Math.Max(rollingPeriod.Ticks / SlotsPerWindow, TimeSpan.TicksPerSecond);
    }

    public BudgetAccountKey Key { get; }

    /// <summary>Gets the lock order: accounts are always locked in increasing order, so reservations over several never deadlock.</summary>
    public long Order { get; }

    public long RollingTicks { get; }

    public long SlotTicks { get; }

    public long Limit { get; private set; }

    public long Spent { get; private set; }

    public long Reserved { get; set; }

    /// <summary>Gets when its calendar window closes; null for lifetime and rolling windows.</summary>
    public DateTimeOffset? WindowEnd { get; }

    /// <summary>Gets or sets the number of reservations holding this account (zero-amount ones too).</summary>
    public int Holders { get; set; }

    /// <summary>Gets or sets the closed-window total this account was compacted into; a late true-up lands there too.</summary>
    public ClosedWindow? CompactedInto { get; set; }

    /// <summary>Takes the limit of the latest request (converted only when it changes).</summary>
    public void SetLimit(decimal amount)
    {
        if (amount != _limitAmount)
        {
            _limitAmount = amount;
            Limit = BudgetUnits.From(amount);
        }
    }

    public long CurrentSpent(DateTimeOffset now)
    {
        if (_slots is { Count: > 0 } slots)
        {
            long oldestKept = (now.UtcTicks - RollingTicks) / SlotTicks;
            while (slots.Count > 0 && slots.Peek().Index < oldestKept)
            {
                Spent -= slots.Dequeue().Units;
            }
        }

        return Spent;
    }

    public void AddSpent(long units, DateTimeOffset now)
    {
        Spent += units;
        if (RollingTicks == 0 || units == 0)
        {
            return;
        }

        long index = now.UtcTicks / SlotTicks;
        _slots ??= new Queue<Slot>();
        if (_slots.Count > 0 && _lastSlot is { } last && last.Index >= index)
        {
            last.Units += units;
        }
        else
        {
            _lastSlot = new Slot { Index = index, Units = units };
            _slots.Enqueue(_lastSlot);
        }
    }

    /// <summary>Takes back spend that was added at <paramref name="addedAt"/> (an expiry charge being trued up); rolling windows take it from that slot.</summary>
    public void RemoveSpent(long units, DateTimeOffset addedAt)
    {
        if (RollingTicks != 0)
        {
            // Only what is still in the window can be taken back; spend already forgotten stays forgotten.
            long index = addedAt.UtcTicks / SlotTicks;
            var slot = _slots?.FirstOrDefault(s => s.Index == index);
            if (slot is null)
            {
                return;
            }

            units = Math.Min(units, slot.Units);
            slot.Units -= units;
        }

        Spent -= Math.Min(units, Spent);
    }

    public BudgetAccountBalance GetBalance(DateTimeOffset now) =>
        new(Key, BudgetUnits.ToDecimal(Limit), BudgetUnits.ToDecimal(CurrentSpent(now)), BudgetUnits.ToDecimal(Reserved));

    public LedgerFileAccount ToFile(DateTimeOffset now) => new()
    {
        Limit = Key.Limit,
        ScopeValue = Key.ScopeValue,
        WindowStart = Key.WindowStart,
        Spent = BudgetUnits.ToDecimal(CurrentSpent(now)),
        RollingTicks = RollingTicks,
        WindowEnd = WindowEnd,
        Slots = _slots is null ? null : [.. _slots.Select(s => new LedgerFileSlot { Slot = s.Index, Amount = BudgetUnits.ToDecimal(s.Units) })],
    };

    public void Restore(LedgerFileAccount file)
    {
        Spent = BudgetUnits.From(file.Spent);
        if (file.Slots is { Count: > 0 } slots)
        {
            _slots = new Queue<Slot>(slots.Select(s => new Slot { Index = s.Slot, Units = BudgetUnits.From(s.Amount) }));
            _lastSlot = _slots.Last();
        }
    }

    /// <summary>The running total of one limit's closed window; guarded by locking the instance.</summary>
    internal sealed class ClosedWindow(string limit, DateTimeOffset windowStart)
    {
        public string Limit { get; } = limit;

        public DateTimeOffset WindowStart { get; } = windowStart;

        public long Spent { get; set; }

        public int Accounts { get; set; }

        public BudgetWindowTotal ToTotal() => new(Limit, WindowStart, BudgetUnits.ToDecimal(Spent), Accounts);
    }

    private sealed class Slot
    {
        public long Index { get; init; }

        public long Units { get; set; }
    }
}
