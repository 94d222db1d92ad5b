using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using InferenceRouter.TestServer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace InferenceRouter.Tests.Samples;

/// <summary>samples/WebApi driven over HTTP with WebApplicationFactory, its Anthropic and OpenAI routes pointed at loopback servers.</summary>
public class WebApiSampleTests
{
    [Fact]
    public async Task The_web_api_routes_by_price_caches_paraphrases_fails_over_and_enforces_tenant_budgets()
    {
        await using var claude = await FakeProviderServer.StartAsync("claude");
        await using var gpt = await FakeProviderServer.StartAsync("gpt");
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("Telemetry:Console", "false");
            web.UseSetting("InferenceRouter:Routes:0:Endpoint", claude.RootUrl.ToString());
            web.UseSetting("InferenceRouter:Routes:0:ApiKey", "test-key");
            web.UseSetting("InferenceRouter:Routes:1:Provider", "OpenAICompatible");
            web.UseSetting("InferenceRouter:Routes:1:Endpoint", gpt.BaseUrl.ToString());
            web.UseSetting("InferenceRouter:Routes:1:ApiKey", "test-key");
        });
        using var http = factory.CreateClient();

        // The cheapest route answers, priced.
        var first = await ChatAsync(http, "How can I learn Python quickly?", tenant: "acme");
        first.GetProperty("route").GetString().Should().Be("gpt-mini");
        first.GetProperty("cost").GetDecimal().Should().BeGreaterThan(0);

        // A paraphrase is a semantic cache hit: no route, no cost.
        var paraphrase = await ChatAsync(http, "How do I learn Python quickly?", tenant: "acme");
        paraphrase.GetProperty("cacheHit").GetString().Should().Be("Semantic");
        paraphrase.GetProperty("cost").GetDecimal().Should().Be(0);
        gpt.RequestCount.Should().Be(1);

        // The cheap route fails: the Anthropic route answers.
        gpt.DefaultBehavior = ServerBehavior.Error(503);
        var failover = await ChatAsync(http, "What is the capital of France?", tenant: "acme");
        failover.GetProperty("route").GetString().Should().Be("claude");
        failover.GetProperty("text").GetString().Should().Be("Hello from claude");

        // The free tier's daily limit (0.01 USD, reject) cannot take a call whose worst case is larger.
        using var rejected = await SendAsync(http, new { prompt = "Write a novel.", maxOutputTokens = 100_000 }, "free-tier");
        rejected.StatusCode.Should().Be(HttpStatusCode.PaymentRequired);
        (await rejected.Content.ReadAsStringAsync()).Should().Contain("free-tier");

        var routes = await http.GetFromJsonAsync<JsonElement>("/routes");
        routes.EnumerateArray().Select(r => r.GetProperty("route").GetString()).Should().BeEquivalentTo("claude", "gpt-mini");
        var spend = await http.GetFromJsonAsync<JsonElement>("/spend");
        spend.GetRawText().Should().Contain("acme");
    }

    private static async Task<JsonElement> ChatAsync(HttpClient http, string prompt, string tenant)
    {
        using var response = await SendAsync(http, new { prompt }, tenant);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, object body, string tenant)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/chat") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Tenant", tenant);
        return http.SendAsync(request);
    }
}
