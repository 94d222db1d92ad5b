namespace InferenceRouter;

/// <summary>The result of settling a reservation.</summary>
/// <param name="Applied">False when the reservation had already been settled, released or expired (then nothing changed).</param>
/// <param name="Balances">The accounts' balances after the settlement (empty when not applied).</param>
public readonly record struct BudgetSettlement(bool Applied, IReadOnlyList<BudgetAccountBalance> Balances);
