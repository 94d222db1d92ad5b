namespace InferenceRouter;

/// <summary>One account inside <see cref="InMemoryBudgetLedger"/>; every member is guarded by locking the instance.</summary>
/// <remarks>
/// Rolling windows keep spend per slot (a hundredth of the window, at least a second) and drop a slot only when all of it has left
/// the window: spend is forgotten up to one slot late, never early, so a rolling limit is never overspent.
/// </remarks>
internal sealed class BudgetAccountState
{
    private const int SlotsPerWindow = 100;
    private Queue<LedgerFileSlot>? _slots;

    public BudgetAccountState(BudgetAccountKey key, long order, TimeSpan rollingPeriod)
    {
        Key = key;
        Order = order;
        RollingTicks = rollingPeriod.Ticks;
        SlotTicks = Math.Max(rollingPeriod.Ticks / SlotsPerWindow, TimeSpan.TicksPerSecond);
    }

    public BudgetAccountKey Key { get; }

    /// <summary>Gets the lock order: accounts are always locked in increasing order, so reservations over several never deadlock.</summary>
    public long Order { get; }

    public long RollingTicks { get; }

    public long SlotTicks { get; }

    public decimal Limit { get; set; }

    public decimal Spent { get; private set; }

    public decimal Reserved { get; set; }

    public decimal CurrentSpent(DateTimeOffset now)
    {
        if (_slots is { Count: > 0 } slots)
        {
            long oldestKept = (now.UtcTicks - RollingTicks) / SlotTicks;
            while (slots.Count > 0 && slots.Peek().Slot < oldestKept)
            {
                Spent -= slots.Dequeue().Amount;
            }
        }

        return Spent;
    }

    public void AddSpent(decimal amount, DateTimeOffset now)
    {
        Spent += amount;
        if (RollingTicks == 0 || amount == 0)
        {
            return;
        }

        long slot = now.UtcTicks / SlotTicks;
        _slots ??= new Queue<LedgerFileSlot>();
        if (_slots.Count > 0 && LastSlot is { } last && last.Slot >= slot)
        {
            last.Amount += amount;
        }
        else
        {
            LastSlot = new LedgerFileSlot { Slot = slot, Amount = amount };
            _slots.Enqueue(LastSlot);
        }
    }

    public BudgetAccountBalance GetBalance(DateTimeOffset now) => new(Key, Limit, CurrentSpent(now), Reserved);

    public LedgerFileAccount ToFile(DateTimeOffset now) => new()
    {
        Limit = Key.Limit,
        ScopeValue = Key.ScopeValue,
        WindowStart = Key.WindowStart,
        Spent = CurrentSpent(now),
        RollingTicks = RollingTicks,
        Slots = _slots is null ? null : [.. _slots.Select(s => new LedgerFileSlot { Slot = s.Slot, Amount = s.Amount })],
    };

    public void Restore(LedgerFileAccount file)
    {
        Spent = file.Spent;
        if (file.Slots is { Count: > 0 } slots)
        {
            _slots = new Queue<LedgerFileSlot>(slots);
            LastSlot = slots[^1];
        }
    }

    private LedgerFileSlot? LastSlot { get; set; }
}
