namespace InferenceRouter;

/// <summary>Records the status and requested wait of each error response passing through it (<see cref="ProviderRetryAfter"/>); answers pass unchanged.</summary>
internal sealed class ProviderRetryAfterHandler(ProviderRetryAfter record) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode >= 400)
        {
            record.Record(response);
        }

        return response;
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = base.Send(request, cancellationToken);
        if ((int)response.StatusCode >= 400)
        {
            record.Record(response);
        }

        return response;
    }
}
