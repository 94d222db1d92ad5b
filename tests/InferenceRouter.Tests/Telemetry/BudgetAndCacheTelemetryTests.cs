using System.Diagnostics.Metrics;
using InferenceRouter.Tests.Budgets;
using InferenceRouter.Tests.Caching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Telemetry;

[Collection(EmbeddingCollection.Name)]
public class BudgetAndCacheTelemetryTests(EmbeddingFixture fixture)
{
    private readonly IMeterFactory _meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    [Fact]
    public async Task Cost_tokens_and_denials_are_recorded_by_route_model_and_tenant()
    {
        var options = new BudgetOptions { UseDefaultPriceCatalog = false, TenantInMetrics = true };
        options.Prices["test-model"] = new ModelPrice { InputPerMillion = 1m, OutputPerMillion = 2m };
        options.Limits.Add(new BudgetLimit { Scope = BudgetScope.Tenant, Amount = 0.0021m });
        using var budget = new BudgetManager(options, meterFactory: _meters);
        using var client = new BudgetChatClient(BudgetChatClientTests.WithUsage(), budget);
        using var cost = new MetricCollector<double>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.CostInstrument);
        using var tokens = new MetricCollector<long>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.TokensInstrument);
        using var denials = new MetricCollector<long>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.BudgetDenialsInstrument);
        var call = new ChatOptions { ModelId = "test-model", MaxOutputTokens = 100 }.ForTenant("acme");

        await client.GetResponseAsync(Prompt(), call);
        await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt(), call)).Should().ThrowAsync<BudgetExceededException>();

        cost.GetMeasurementSnapshot().Should().ContainSingle(m => m.Value == 0.002 && (string?)m.Tags["inference_router.tenant"] == "acme" && (string?)m.Tags["gen_ai.request.model"] == "test-model");
        tokens.GetMeasurementSnapshot().Select(m => ((string?)m.Tags["gen_ai.token.type"], m.Value)).Should().BeEquivalentTo([("input", 1000L), ("output", 500L)]);
        denials.GetMeasurementSnapshot().Should().ContainSingle(m => (string?)m.Tags["inference_router.budget.enforcement"] == "reject");
    }

    [Fact]
    public async Task Cache_lookups_are_counted_by_tier_and_outcome_with_the_similarity()
    {
        using var cache = new SemanticCacheChatClient(TestChatClient.Answering("ok"), fixture.Generator, meterFactory: _meters);
        using var lookups = new MetricCollector<long>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.CacheLookupsInstrument);
        using var similarity = new MetricCollector<double>(_meters, InferenceRouterTelemetry.MeterName, InferenceRouterTelemetry.CacheSimilarityInstrument);

        await cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));   // exact miss, semantic miss (empty)
        await cache.GetResponseAsync(Prompt("How can I learn Python quickly?"));   // exact hit
        await cache.GetResponseAsync(Prompt("How do I learn Python quickly?"));    // exact miss, semantic hit
        await cache.GetResponseAsync(Prompt("How can I learn Java quickly?"));     // exact miss, semantic near miss or miss

        var outcomes = lookups.GetMeasurementSnapshot().Select(m => $"{m.Tags["inference_router.cache.tier"]}:{m.Tags["inference_router.cache.outcome"]}").ToList();
        outcomes.Should().Contain(["exact:hit", "semantic:hit"]);
        outcomes.Count(o => o == "exact:miss").Should().Be(3);
        similarity.GetMeasurementSnapshot().Should().Contain(m => (string?)m.Tags["inference_router.cache.outcome"] == "hit" && m.Value > 0.9);
    }
}
