using System.ClientModel.Primitives;

namespace InferenceRouter;

/// <summary>Reads every response's <c>x-ratelimit-*</c> headers into a <see cref="ProviderRateLimits"/> from inside the OpenAI SDK's pipeline.</summary>
internal sealed class OpenAIRateLimitsPolicy(ProviderRateLimits limits) : PipelinePolicy
{
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        ProcessNext(message, pipeline, currentIndex);
        Observe(message);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
        Observe(message);
    }

    private void Observe(PipelineMessage message)
    {
        if (message.Response is { } response)
        {
            limits.Observe(name => response.Headers.TryGetValue(name, out string? value) ? value : null);
        }
    }
}
