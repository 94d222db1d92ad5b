using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>Validates <see cref="InferenceRouterRedisOptions"/> at start, naming the bad value and the fix.</summary>
internal sealed class InferenceRouterRedisOptionsValidator : IValidateOptions<InferenceRouterRedisOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceRouterRedisOptions options)
    {
        var problems = options.Budgets.GetValidationErrors().Select(p => "Redis:Budgets:" + p).Concat(options.Cache.GetValidationErrors().Select(p => "Redis:Cache:" + p))
            .Concat(options.Quality.GetValidationErrors().Select(p => "Redis:Quality:" + p)).ToList();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            problems.Add("Redis has no connection string: set InferenceRouter:Redis:ConnectionString or ConnectionStrings:Redis (e.g. \"localhost:6379\").");
        }
        else
        {
            try
            {
                ConfigurationOptions.Parse(options.ConnectionString);
            }
            catch (ArgumentException e)
            {
                problems.Add($"Redis:ConnectionString is not a StackExchange.Redis connection string ({e.Message}).");
            }
        }

        if (options.CacheConnectionString is { } cache)
        {
            try
            {
                ConfigurationOptions.Parse(cache);
            }
            catch (ArgumentException e)
            {
                problems.Add($"Redis:CacheConnectionString is not a StackExchange.Redis connection string ({e.Message}); remove it to keep the cache on ConnectionString's server.");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
