using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>
/// A provider SDK's failure rules: how its exceptions read in the terms every provider shares (status, type, code, text, Retry-After:
/// <see cref="FailureClassifier.ClassifyProviderError"/> then classifies them by one table), and how it reports an error where an answer should be. A route's client exposes it through <c>GetService</c>
/// (<see cref="ProviderFailureChatClientExtensions.WithFailureClassifier"/>), and the router consults it before its own rules.
/// </summary>
/// <remarks>Implementations must be thread-safe and must not throw; the router calls them concurrently.</remarks>
public interface IProviderFailureClassifier
{
    /// <summary>Classifies <paramref name="exception"/> when it is one of the SDK's (the router offers each exception of a failure's chain, outermost first).</summary>
    /// <param name="exception">One exception of the chain; its inner exceptions are offered separately.</param>
    /// <param name="clock">The router's clock, to read HTTP-date Retry-After values against.</param>
    /// <param name="classification">The classification, when this returns <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when the SDK's rules decide; <see langword="false"/> to leave it to the router's generic rules.</returns>
    bool TryClassify(Exception exception, TimeProvider clock, out FailureClassification classification);

    /// <summary>
    /// Reads the error a provider put where an answer should be (an error event inside a 200 stream, an error body), from a response's or
    /// update's <c>RawRepresentation</c>; the router asks only about responses and updates that carry nothing useful. By default it reads
    /// JSON (<see cref="ProviderErrorEvent.TryRead"/>).
    /// </summary>
    /// <param name="rawRepresentation">The SDK's raw representation of the response or update.</param>
    /// <param name="error">The provider's error (status, type, code, text), when this returns <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when it is an error.</returns>
    bool TryReadErrorEvent(object? rawRepresentation, [NotNullWhen(true)] out ProviderError? error) => ProviderErrorEvent.TryRead(rawRepresentation, out error);

    /// <summary>
    /// Gets a value indicating whether every complete stream of this SDK says it is complete (a finish reason, or what
    /// <see cref="IsStreamEnd"/> reads): then a stream that ends without saying so was cut off, and the router counts it as a failure.
    /// It is the default of <see cref="RouteDescriptor.RequireFinishReason"/> for the routes whose client exposes these rules. By
    /// default <see langword="false"/>.
    /// </summary>
    bool ReportsStreamEnd => false;

    /// <summary>
    /// Returns whether a streamed update is the provider saying its answer is complete; by default, whether it carries a finish reason
    /// (OpenAI's <c>finish_reason</c>, Anthropic's <c>stop_reason</c>, Ollama's <c>done_reason</c>, as the SDKs map them).
    /// </summary>
    /// <param name="update">A streamed update.</param>
    /// <returns><see langword="true"/> when <paramref name="update"/> marks the end of a complete answer.</returns>
    bool IsStreamEnd(ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return update.FinishReason is not null;
    }
}
