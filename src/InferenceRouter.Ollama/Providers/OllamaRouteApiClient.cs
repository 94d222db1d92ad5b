using OllamaSharp;
using OllamaSharp.Models;

namespace InferenceRouter;

/// <summary>
/// The OllamaSharp client of routes built from configuration: it closes a streamed response when the call's token is cancelled.
/// </summary>
/// <remarks>
/// OllamaSharp reads a stream's lines without the token, so a server that sends its headers and then nothing keeps the read (and its
/// connection) waiting forever. The router stops waiting on its own when its timeouts fire or the caller cancels; closing the response
/// then ends the read too, so the abandoned request's connection is freed and its enumerator is disposed. Thread-safe.
/// </remarks>
internal sealed class OllamaRouteApiClient(HttpClient client, string defaultModel) : OllamaApiClient(client, defaultModel)
{
    protected override async Task<HttpResponseMessage> SendToOllamaAsync(
        HttpRequestMessage requestMessage, OllamaRequest? ollamaRequest, HttpCompletionOption completionOption, CancellationToken cancellationToken)
    {
        var response = await base.SendToOllamaAsync(requestMessage, ollamaRequest, completionOption, cancellationToken).ConfigureAwait(false);
        if (completionOption == HttpCompletionOption.ResponseHeadersRead && cancellationToken.CanBeCanceled)
        {
            response.Content = new CancellableContent(response.Content, cancellationToken.Register(static r => ((HttpResponseMessage)r!).Dispose(), response));
        }

        return response;
    }

    /// <summary>A response body that stops listening to the token once it is disposed.</summary>
    private sealed class CancellableContent : HttpContent
    {
        private readonly HttpContent _inner;
        private CancellationTokenRegistration _registration;

        public CancellableContent(HttpContent inner, CancellationTokenRegistration registration)
        {
            _inner = inner;
            _registration = registration;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => _inner.CopyToAsync(stream);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
            _inner.CopyToAsync(stream, cancellationToken);

        protected override Task<Stream> CreateContentReadStreamAsync() => _inner.ReadAsStreamAsync();

        protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => _inner.ReadAsStreamAsync(cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _registration.Dispose();
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
