using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace InferenceRouter;

/// <summary>Validates the router's options at startup: every problem, each naming the setting and the fix.</summary>
internal sealed class InferenceRouterOptionsValidator(InferenceRouterRegistrations registrations, RouteProviderRegistry providers, IServiceProvider services) : IValidateOptions<InferenceRouterOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceRouterOptions options)
    {
        var errors = options.GetValidationErrors(providers).ToList();
        if (registrations.Configuration is { } configuration)
        {
            errors.AddRange(KnownSettings.FindUnknownKeys(configuration, typeof(InferenceRouterOptions), registrations.Sections));
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var routeName in options.Routes.Select(r => r.Name).Concat(registrations.Routes.Select(r => r.Descriptor.Name)))
        {
            if (!string.IsNullOrWhiteSpace(routeName) && !seen.Add(routeName))
            {
                errors.Add($"Two routes are named '{routeName}'; route names must be unique (case-insensitive) across configuration and code.");
            }
        }

        // Keyed routes need their client registered; say so at startup rather than at the first call.
        var keyed = services.GetService<IServiceProviderIsKeyedService>();
        foreach (var route in options.Routes.Where(r => KeyedRouteProvider.IsKeyed(r) && !string.IsNullOrWhiteSpace(r.ServiceKey)))
        {
            if (keyed is not null && !keyed.IsKeyedService(typeof(IChatClient), route.ServiceKey))
            {
                errors.Add(route.MissingKeyedClientMessage);
            }
        }

        if (seen.Count == 0)
        {
            errors.Add($"No routes: add some under {InferenceRouterOptions.SectionName}:Routes in configuration, or with AddRoute in code.");
        }

        if (!string.IsNullOrWhiteSpace(options.DefaultPolicy) && !RoutingPolicies.BuiltInNames.Contains(options.DefaultPolicy, StringComparer.OrdinalIgnoreCase))
        {
            // Policies registered by factory (AddPolicy(sp => ...), AddQualityRouting) are named only once built: build them to read their names.
            var registered = registrations.Policies.Select(p => p.Name).Concat(registrations.PolicyFactories.Select(f => f(services).Name)).ToList();
            if (!registered.Contains(options.DefaultPolicy, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(
                    $"DefaultPolicy '{options.DefaultPolicy}' is unknown. Built-in policies: {string.Join(", ", RoutingPolicies.BuiltInNames)}" +
                    (registered.Count > 0 ? $"; registered: {string.Join(", ", registered)}" : string.Empty) +
                    "; register your own with AddPolicy (an instance or a factory), or fix the name.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
