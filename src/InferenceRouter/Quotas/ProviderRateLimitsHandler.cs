namespace InferenceRouter;

/// <summary>Reads the rate-limit headers of every response passing through it into a <see cref="ProviderRateLimits"/>; responses pass unchanged.</summary>
internal sealed class ProviderRateLimitsHandler(ProviderRateLimits limits) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        Observe(response);
        return response;
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = base.Send(request, cancellationToken);
        Observe(response);
        return response;
    }

    private void Observe(HttpResponseMessage response) =>
        limits.Observe(name => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null);
}
