using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace InferenceRouter;

/// <summary>Adds a <see cref="BudgetChatClient"/> to a chat pipeline.</summary>
public static class BudgetChatClientBuilderExtensions
{
    /// <summary>Enforces budgets on every call through the pipeline and attaches each call's <see cref="CallCost"/>.</summary>
    /// <param name="builder">The pipeline; put the budget before (outside) the router, after (inside) a response cache so hits cost nothing.</param>
    /// <param name="budget">The budget; by default the <see cref="BudgetManager"/> registered by <c>AddInferenceRouter</c> (limits from <c>InferenceRouter:Budgets</c>).</param>
    /// <param name="configure">Changes the client once created.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">No budget was given and none is registered.</exception>
    public static ChatClientBuilder UseBudgets(this ChatClientBuilder builder, BudgetManager? budget = null, Action<BudgetChatClient>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) =>
        {
            var manager = budget ?? services.GetService<BudgetManager>() ?? throw new InvalidOperationException(
                "UseBudgets found no BudgetManager: register the router with services.AddInferenceRouter(...) (which registers one from InferenceRouter:Budgets), or pass a BudgetManager to UseBudgets.");
            var client = new BudgetChatClient(inner, manager);
            configure?.Invoke(client);
            return client;
        });
    }
}
