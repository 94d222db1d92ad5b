namespace InferenceRouter;

/// <summary>What a <see cref="QualityBar"/>'s value means.</summary>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public enum QualityBarKind
{
    /// <summary>The most calls, as a share, that may go to the strongest tier.</summary>
    StrongShare,

    /// <summary>The least share of the strongest tier's quality to keep.</summary>
    KeepQuality,

    /// <summary>The largest predicted gain of the strongest tier that still lets a cheaper tier answer.</summary>
    MaxGain,
}
