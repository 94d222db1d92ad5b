namespace InferenceRouter;

/// <summary>
/// An error as a provider reported it, in the terms providers share: what the failure rules every route goes by
/// (<see cref="FailureClassifier.ClassifyProviderError"/>) read. Provider packages fill it from their SDK's exceptions and error events.
/// </summary>
/// <param name="StatusCode">The HTTP status of the response, or the one the error names; null inside a 200 stream that names none.</param>
/// <param name="Type">The error's type or category, e.g. <c>invalid_request_error</c>, <c>rate_limit_error</c>, <c>overloaded_error</c>.</param>
/// <param name="Code">The error's code, e.g. <c>context_length_exceeded</c>, <c>rate_limit_exceeded</c>, <c>invalid_api_key</c>, <c>content_filter</c>.</param>
/// <param name="Message">The provider's own text (it may echo request content: the router repeats at most a capped line of it).</param>
public sealed record ProviderError(int? StatusCode, string? Type = null, string? Code = null, string? Message = null);
