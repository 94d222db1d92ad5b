namespace InferenceRouter;

/// <summary>Running totals for one route; locked because decimals cannot be updated atomically.</summary>
internal sealed class SpendCounter
{
    private long _calls;
    private long _input;
    private long _output;
    private decimal _cost;
    private long _latencyTicks;

    public void Add(CallCost cost, TimeSpan latency)
    {
        lock (this)
        {
            _calls++;
            _input += cost.InputTokens;
            _output += cost.OutputTokens;
            _cost += cost.Amount;
            _latencyTicks += latency.Ticks;
        }
    }

    public RouteSpend ToSpend(string route)
    {
        lock (this)
        {
            return new RouteSpend(route, _calls, _input, _output, _cost, _calls == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(_latencyTicks / _calls));
        }
    }
}
