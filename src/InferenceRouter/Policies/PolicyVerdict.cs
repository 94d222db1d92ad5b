namespace InferenceRouter;

/// <summary>What one policy said about one route, as recorded by <see cref="RouterChatClient.Explain"/>.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Policy">The policy's name.</param>
/// <param name="Verdict">What it did: <c>excluded: reason</c>, or <c>score</c> (or why it scored so, for rankers that say).</param>
/// <param name="Score">The score it gave, for rankers.</param>
public readonly record struct PolicyVerdict(string Route, string Policy, string Verdict, double? Score)
{
    /// <inheritdoc/>
    public override string ToString() => Score is { } s ? (Verdict == "score" ? $"{Policy}: score {s:G4}" : $"{Policy}: score {s:G4}, {Verdict}") : $"{Policy}: {Verdict}";
}
