using Polly;

namespace InferenceRouter;

/// <summary>
/// The provider HTTP client's safety net: each request gets at most the attempt timeout to its response headers, else fails with
/// Polly's <see cref="Polly.Timeout.TimeoutRejectedException"/> (transient). No retries: the router fails over instead.
/// </summary>
internal sealed class ProviderTimeoutHandler(TimeSpan timeout, TimeProvider? clock) : DelegatingHandler
{
    private readonly ResiliencePipeline _pipeline = new ResiliencePipelineBuilder { TimeProvider = clock ?? TimeProvider.System }.AddTimeout(timeout).Build();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(static (state, token) => new ValueTask<HttpResponseMessage>(state.Handler.SendInnerAsync(state.Request, token)), (Handler: this, Request: request), cancellationToken).AsTask();

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _pipeline.Execute(static (state, token) => state.Handler.SendInner(state.Request, token), (Handler: this, Request: request), cancellationToken);

    private Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken cancellationToken) => base.SendAsync(request, cancellationToken);

    private HttpResponseMessage SendInner(HttpRequestMessage request, CancellationToken cancellationToken) => base.Send(request, cancellationToken);
}
