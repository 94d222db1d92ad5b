using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace InferenceRouter;

/// <summary>
/// Builds, when the host starts (<c>ValidateOnStart</c>), the chat pipeline <c>AddInferenceRouter</c> returned, so that what its
/// layers refuse when they are built — <c>UseBudgets()</c> with a route it cannot price, a router whose routes do not fit quality
/// routing — stops the start instead of failing the first call. Without a host the same happens when the pipeline is first resolved.
/// </summary>
internal sealed class PipelineStartValidator(InferenceRouterRegistrations registrations, IServiceProvider services) : IValidateOptions<PipelineStartValidator.Check>
{
    public ValidateOptionsResult Validate(string? name, Check options)
    {
        // Only the pipeline registered here, while it is the app's IChatClient and a singleton: building another registration at
        // start could do what the app did not ask for.
        if (registrations.Pipeline is not { Lifetime: ServiceLifetime.Singleton } pipeline ||
            registrations.Services?.LastOrDefault(d => d.ServiceType == typeof(IChatClient) && !d.IsKeyedService) != pipeline)
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            _ = services.GetService<IChatClient>();
        }
        catch (OptionsValidationException)
        {
            // Invalid options: their own validators report them at start, with every problem.
        }

        return ValidateOptionsResult.Success;
    }

    /// <summary>The options type that hooks this check into <c>ValidateOnStart</c>; it holds nothing.</summary>
    internal sealed class Check;
}
