using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace InferenceRouter;

/// <summary>
/// When the host starts, checks the budget's limits against the ones stored under the ledger's key prefix, so an app that would share
/// (and rewrite) another app's budget stops at start instead of at its first call. When Redis does not answer then, the ledger checks
/// before this instance's first reservation in each limit instead (the app still starts, as it does with Redis down).
/// </summary>
internal sealed class RedisLimitsCheck(IServiceProvider services, IOptions<BudgetOptions> budgets, IOptions<InferenceRouterRedisOptions> redis) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var limits = budgets.Value.Limits;
        if (limits.Count == 0 || services.GetService<IBudgetLedger>() is not RedisBudgetLedger ledger)
        {
            return;
        }

        try
        {
            await ledger.VerifyLimitsAsync(limits.Select(l => (l.DisplayName, l.Amount, l.Window == BudgetWindow.Rolling ? TimeSpan.FromHours(l.RollingHours) : TimeSpan.Zero)), cancellationToken).ConfigureAwait(false);
        }
        catch (BudgetLedgerUnavailableException)
        {
            RedisBudgetLog.LimitsNotCheckedAtStart((ILogger?)services.GetService<ILogger<RedisBudgetLedger>>() ?? NullLogger.Instance, redis.Value.Budgets.KeyPrefix!);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
