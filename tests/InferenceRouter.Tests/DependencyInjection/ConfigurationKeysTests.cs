using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace InferenceRouter.Tests.DependencyInjection;

/// <summary>Every key under <c>InferenceRouter</c> is one an options type binds: a misspelt one fails at start, naming its path and the key meant.</summary>
public class ConfigurationKeysTests
{
    private static readonly Dictionary<string, string?> s_validRoute = new()
    {
        ["InferenceRouter:Routes:0:Name"] = "compatible",
        ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
        ["InferenceRouter:Routes:0:Endpoint"] = "http://127.0.0.1:9/v1",
        ["InferenceRouter:Routes:0:Model"] = "m",
    };

    [Fact]
    public void Misspelt_keys_at_every_level_fail_at_start_naming_the_full_path_and_the_key_meant()
    {
        using var services = Build(new()
        {
            ["InferenceRouter:Routes:0:ApiKeyEnvVariable"] = "MY_KEY",
            ["InferenceRouter:Routes:0:Tag:region"] = "eu",
            ["InferenceRouter:TimeToFirstTokenTimout"] = "00:00:02",
            ["InferenceRouter:CircuitBreaker:BreakDurration"] = "00:00:05",
            ["InferenceRouter:Budgets:Limits:0:Amount"] = "5",
            ["InferenceRouter:Budgets:Limits:0:Windw"] = "Day",
            ["InferenceRouter:Budgets:Prices:house:InputPricePerMillion"] = "1",
            ["InferenceRouter:Quality:TierCont"] = "3",
            ["InferenceRouter:Redis:ConnectionString"] = "localhost:1",
            ["InferenceRouter:Redis:Budgets:KeyPrefx"] = "app",
            ["InferenceRouter:Redis:Cache:MaxLocalEntry"] = "10",
            ["InferenceRouter:Routes:0:Capabilities:Tools"] = "true",
            ["InferenceRouter:Routes:0:Tags:0"] = "eu",
            ["InferenceRouter:FailureClassifier:TreatAsTransient"] = "429",
        }, r => r.AddQualityRouting().UseRedis());

        var failures = FluentActions.Invoking(() => services.GetRequiredService<IStartupValidator>().Validate())
            .Should().Throw<OptionsValidationException>().Which.Failures;

        failures.Should().Contain("InferenceRouter:Routes:0:ApiKeyEnvVariable is not a known setting; did you mean ApiKeyEnvironmentVariable?");
        failures.Should().Contain("InferenceRouter:Routes:0:Tag is not a known setting; did you mean Tags?");
        failures.Should().Contain("InferenceRouter:TimeToFirstTokenTimout is not a known setting; did you mean TimeToFirstTokenTimeout?");
        failures.Should().Contain("InferenceRouter:CircuitBreaker:BreakDurration is not a known setting; did you mean BreakDuration?");
        failures.Should().Contain("InferenceRouter:Budgets:Limits:0:Windw is not a known setting; did you mean Window?");
        failures.Should().Contain("InferenceRouter:Budgets:Prices:house:InputPricePerMillion is not a known setting; did you mean InputPerMillion?");
        failures.Should().Contain("InferenceRouter:Quality:TierCont is not a known setting; did you mean TierCount?");
        failures.Should().Contain("InferenceRouter:Redis:Budgets:KeyPrefx is not a known setting; did you mean KeyPrefix?");
        failures.Should().Contain("InferenceRouter:Redis:Cache:MaxLocalEntry is not a known setting; did you mean MaxLocalEntries?");
        failures.Should().Contain(f => f.StartsWith("InferenceRouter:Routes:0:Capabilities:Tools is not a known setting: Capabilities takes a single value", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("InferenceRouter:Routes:0:Tags:0 looks like a list entry, but Tags is a map", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("InferenceRouter:FailureClassifier cannot be set in configuration", StringComparison.Ordinal));
        failures.Should().NotContain(f => f.Contains("InferenceRouter:Budgets:Limits:0:Amount") || f.Contains("Redis:ConnectionString"));
    }

    [Fact]
    public void Every_bindable_key_of_a_route_is_accepted_and_a_one_letter_slip_in_it_is_refused_suggesting_it()
    {
        // Independent of the checker: the keys are RouteOptions' public settable properties and get-only collections.
        var keys = typeof(RouteOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod?.IsPublic == true || (p.PropertyType != typeof(string) && !p.PropertyType.IsValueType))
            .Select(p => p.Name).ToList();
        keys.Should().Contain(["ApiKeyEnvironmentVariable", "Tags", "Capabilities", "Drained"]);
        int seed = Environment.TickCount;
        var random = new Random(seed);

        var valid = new Dictionary<string, string?>(s_validRoute);
        foreach (var key in keys.Where(k => k is not "Tags"))
        {
            valid.TryAdd($"InferenceRouter:Routes:0:{key}", null);
        }

        valid["InferenceRouter:Routes:0:Tags:anything"] = "x";
        using (var services = Build(valid))
        {
            FluentActions.Invoking(() => services.GetRequiredService<IStartupValidator>().Validate()).Should().NotThrow($"every property of RouteOptions is a setting (seed {seed})");
        }

        foreach (var key in keys)
        {
            int cut = random.Next(1, key.Length - 1);
            var slip = key.Remove(cut, 1);
            using var services = Build(new(s_validRoute) { [$"InferenceRouter:Routes:0:{slip}"] = "x" });
            FluentActions.Invoking(() => services.GetRequiredService<IStartupValidator>().Validate())
                .Should().Throw<OptionsValidationException>($"{slip} is not a key (seed {seed})")
                .Which.Failures.Should().Contain($"InferenceRouter:Routes:0:{slip} is not a known setting; did you mean {key}?");
        }
    }

    [Fact]
    public void A_feature_section_nobody_reads_and_an_unrelated_key_say_what_to_do()
    {
        using var services = Build(new(s_validRoute)
        {
            ["InferenceRouter:Redis:ShareHealth"] = "true",
            ["InferenceRouter:Quality:TierCount"] = "3",
            ["InferenceRouter:Banana"] = "1",
        });

        var failures = FluentActions.Invoking(() => services.GetRequiredService<IChatClient>()).Should().Throw<OptionsValidationException>().Which.Failures;

        failures.Should().Contain(f => f.StartsWith("InferenceRouter:Redis is set, but nothing reads it: call UseRedis()", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("InferenceRouter:Quality is set, but nothing reads it: call AddQualityRouting()", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("InferenceRouter:Banana is not a known setting. Known settings there: ", StringComparison.Ordinal) && f.Contains("Budgets") && f.Contains("Routes"));
    }

    [SharedFact("models/tiny-gpt2-genai")]
    public void Local_model_entries_are_checked_against_their_options()
    {
        using var services = Build(new(s_validRoute)
        {
            ["InferenceRouter:LocalModels:tiny:ModelPath"] = SharedFiles.TinyModel,
            ["InferenceRouter:LocalModels:tiny:MaxConcurrentGeneration"] = "2",
        }, r => r.AddLocalOnnxRoutes());

        FluentActions.Invoking(() => services.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<OptionsValidationException>()
            .Which.Failures.Should().Contain("InferenceRouter:LocalModels:tiny:MaxConcurrentGeneration is not a known setting; did you mean MaxConcurrentGenerations?");
    }

    [Theory]
    [InlineData("QuickStart")]
    [InlineData("OnDevice")]
    [InlineData("OpenAIOnly")]
    [InlineData("WebApi")]
    public void The_samples_configuration_holds_only_known_keys(string sample)
    {
        var path = Path.Combine(RepositoryRoot(), "samples", sample, "appsettings.json");
        var section = new ConfigurationBuilder().AddJsonFile(path).Build().GetSection(InferenceRouterOptions.SectionName);
        var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
        {
            ["Budgets"] = typeof(BudgetOptions),
            ["Quality"] = typeof(QualityPredictorOptions),
            ["Redis"] = typeof(InferenceRouterRedisOptions),
            ["LocalModels"] = typeof(Dictionary<string, LocalOnnxOptions>),
        };

        KnownSettings.FindUnknownKeys(section, typeof(InferenceRouterOptions), sections).Should().BeEmpty();
    }

    [Fact]
    public void Nearest_keys_are_close_ones_only()
    {
        KnownSettings.Nearest("ApiKeyEnvVariable", ["ApiKey", "ApiKeyEnvironmentVariable", "Endpoint"]).Should().Be("ApiKeyEnvironmentVariable");
        KnownSettings.Nearest("tag", ["Tags", "Name"]).Should().Be("Tags");
        KnownSettings.Nearest("Foo", ["Tags", "Name", "Model"]).Should().BeNull();
        KnownSettings.EditDistance("kitten", "SITTING").Should().Be(3);
    }

    private static ServiceProvider Build(Dictionary<string, string?> values, Action<InferenceRouterBuilder>? configure = null)
    {
        foreach (var (key, value) in s_validRoute)
        {
            values.TryAdd(key, value);
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddInferenceRouter(configuration.GetSection(InferenceRouterOptions.SectionName), configure);
        return services.BuildServiceProvider();
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "InferenceRouter.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (InferenceRouter.sln) is not above the test's folder.");
    }
}
