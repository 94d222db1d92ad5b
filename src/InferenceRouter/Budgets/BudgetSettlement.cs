namespace InferenceRouter;

/// <summary>The result of settling a reservation.</summary>
/// <param name="Applied">False when the reservation had already been settled or released (then nothing changed).</param>
/// <param name="Balances">The accounts' balances after the settlement (empty when not applied).</param>
/// <param name="Late">
/// True when the reservation had expired first: expiry charged the amount it held, and this settlement replaced that charge with the
/// real cost (a call that outlived <see cref="BudgetReservation.ExpiresAt"/> is still charged exactly once).
/// </param>
public readonly record struct BudgetSettlement(bool Applied, IReadOnlyList<BudgetAccountBalance> Balances, bool Late = false);
