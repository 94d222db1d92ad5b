namespace InferenceRouter;

/// <summary>Where ONNX Runtime GenAI runs a local model.</summary>
/// <remarks>
/// The execution provider must be in the native package the app references: <c>Microsoft.ML.OnnxRuntimeGenAI</c> (CPU, the
/// default dependency of this package), <c>Microsoft.ML.OnnxRuntimeGenAI.DirectML</c> (Windows GPUs) or
/// <c>Microsoft.ML.OnnxRuntimeGenAI.Cuda</c> (NVIDIA GPUs). Asking for one the package lacks fails at load with a message naming
/// the package to reference.
/// </remarks>
public enum LocalExecutionProvider
{
    /// <summary>The CPU (every platform).</summary>
    Cpu,

    /// <summary>DirectML: any DirectX 12 GPU on Windows.</summary>
    DirectML,

    /// <summary>CUDA: NVIDIA GPUs on Windows and Linux.</summary>
    Cuda,
}
