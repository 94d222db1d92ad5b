namespace InferenceRouter;

/// <summary>The diagnostic id of the parts of the API that may still change (<see cref="System.Diagnostics.CodeAnalysis.ExperimentalAttribute"/>).</summary>
/// <remarks>
/// Quality-aware routing, the semantic cache's tuning knobs and sharing state across instances through Redis carry it: using them
/// gives warning <c>IROUTER001</c>; suppress it (<c>&lt;NoWarn&gt;$(NoWarn);IROUTER001&lt;/NoWarn&gt;</c>) to accept that a later version
/// may change them. Everything else follows semantic versioning, recorded by the public API analyzer.
/// </remarks>
public static class ExperimentalApis
{
    /// <summary>The diagnostic id: <c>IROUTER001</c>.</summary>
    public const string DiagnosticId = "IROUTER001";
}
