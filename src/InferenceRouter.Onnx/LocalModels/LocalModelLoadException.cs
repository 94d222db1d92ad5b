namespace InferenceRouter;

/// <summary>A local model could not be loaded: a missing or corrupt folder, or an execution provider the installed native package lacks.</summary>
/// <remarks>A <see cref="RouteUnavailableException"/>: the router fails over and leaves the route alone for a while instead of failing the app.</remarks>
public sealed class LocalModelLoadException : RouteUnavailableException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="retryAfter">How long until the next load attempt.</param>
    /// <param name="innerException">The underlying error.</param>
    public LocalModelLoadException(string message, string modelPath, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, retryAfter, innerException)
    {
        ModelPath = modelPath;
    }

    /// <summary>Gets the model folder.</summary>
    public string ModelPath { get; }
}
