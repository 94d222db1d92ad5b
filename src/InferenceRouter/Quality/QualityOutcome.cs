namespace InferenceRouter;

/// <summary>
/// One recorded outcome as other instances can learn it (<see cref="QualityPredictor.OutcomeRecorded"/>,
/// <see cref="QualityPredictor.ApplyOutcome"/>): the prompt's text features and embedding, never its text.
/// </summary>
/// <param name="Features">The prompt's text features (<see cref="QualityOutcome.FeatureCount"/> numbers: lengths, digits, code, maths…).</param>
/// <param name="Embedding">The prompt's embedding from the predictor's generator; empty when it has none.</param>
/// <param name="Tier">The tier that answered.</param>
/// <param name="Score">How well, in [0, 1].</param>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed record QualityOutcome(float[] Features, float[] Embedding, int Tier, double Score)
{
    /// <summary>Gets how many text features describe a prompt in this version.</summary>
    public static int FeatureCount => PromptFeatures.Count;
}
