namespace InferenceRouter;

/// <summary>One message of a cached answer.</summary>
/// <param name="Role">The role (usually <c>assistant</c>).</param>
/// <param name="Text">The text.</param>
public sealed record CachedMessage(string Role, string Text);
