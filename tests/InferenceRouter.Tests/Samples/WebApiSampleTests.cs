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
        await using var factory = Sample(claude, gpt);
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

    [Fact]
    public async Task Bad_input_is_a_400_naming_the_field_and_a_provider_refusal_a_502_that_repeats_nothing_the_provider_said()
    {
        await using var claude = await FakeProviderServer.StartAsync("claude");
        await using var gpt = await FakeProviderServer.StartAsync("gpt");
        await using var factory = Sample(claude, gpt);
        using var http = factory.CreateClient();
        int seed = Environment.TickCount;
        var random = new Random(seed);

        // Output limits no provider can take, however they come.
        foreach (var tokens in new[] { 0, -5, -random.Next(1, int.MaxValue), int.MinValue, random.Next(1_000_001, int.MaxValue) })
        {
            using var bad = await SendAsync(http, new { prompt = "Hi", maxOutputTokens = tokens }, "acme");
            await ShouldBeProblemAsync(bad, HttpStatusCode.BadRequest, "maxOutputTokens", $"maxOutputTokens {tokens} (seed {seed})");
        }

        // Tenants: an 8 KB header, none, an empty one, one with a control character, two of them.
        using (var huge = await SendAsync(http, new { prompt = "Hi" }, new string('t', 8 * 1024)))
        {
            await ShouldBeProblemAsync(huge, HttpStatusCode.BadRequest, "X-Tenant", "an 8 KB tenant");
        }

        foreach (var tenants in new[] { Array.Empty<string>(), [""], ["ac\u0001me"], ["acme", "other"] })
        {
            using var response = await SendAsync(http, new { prompt = "Hi" }, tenants);
            await ShouldBeProblemAsync(response, HttpStatusCode.BadRequest, "X-Tenant", $"tenants [{string.Join(", ", tenants)}]");
        }

        using (var noPrompt = await SendAsync(http, new { prompt = " " }, "acme"))
        {
            await ShouldBeProblemAsync(noPrompt, HttpStatusCode.BadRequest, "prompt", "an empty prompt");
        }

        // Bodies that are not the JSON asked for: the field is named all the same, never an empty 400.
        foreach (var (json, field) in new[] { ("{\"prompt\":\"Hi\",\"maxOutputTokens\":\"abc\"}", "maxOutputTokens"), ("{\"prompt\":\"Hi\",\"maxOutputTokens\":99999999999999}", "maxOutputTokens"), ("{\"prompt\":123}", "prompt"), ("", "body"), ("not json", "body") })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/chat") { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Tenant", "acme");
            using var response = await http.SendAsync(request);
            await ShouldBeProblemAsync(response, HttpStatusCode.BadRequest, field, $"body {json}");
        }

        gpt.RequestCount.Should().Be(0, "bad input never reaches a provider");
        claude.RequestCount.Should().Be(0);

        // Providers refuse (their errors echo the request): a gateway error with a safe message, never a 500, never their text.
        foreach (var status in new[] { 400, 401 })
        {
            gpt.DefaultBehavior = new ServerBehavior { StatusCode = status, EchoRequest = true };
            claude.DefaultBehavior = new ServerBehavior { StatusCode = status, EchoRequest = true };
            var secret = "memo-" + Guid.NewGuid().ToString("N");
            using var refused = await SendAsync(http, new { prompt = $"Summarise {secret}" }, "acme");
            var body = await refused.Content.ReadAsStringAsync();

            // A 401 may fail over to the other route (then every route failed: 503); a 400 surfaces from the first (502).
            refused.StatusCode.Should().BeOneOf([HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable], $"status {status}: {body}");
            if (status == 400)
            {
                refused.StatusCode.Should().Be(HttpStatusCode.BadGateway);
            }

            refused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            body.Should().NotContain(secret).And.NotContain("test-key").And.NotContain("cannot accept");
        }
    }

    private static WebApplicationFactory<Program> Sample(FakeProviderServer claude, FakeProviderServer gpt) => new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
    {
        web.UseSetting("Telemetry:Console", "false");
        web.UseSetting("InferenceRouter:Routes:0:Endpoint", claude.RootUrl.ToString());
        web.UseSetting("InferenceRouter:Routes:0:ApiKey", "test-key");
        web.UseSetting("InferenceRouter:Routes:1:Provider", "OpenAICompatible");
        web.UseSetting("InferenceRouter:Routes:1:Endpoint", gpt.BaseUrl.ToString());
        web.UseSetting("InferenceRouter:Routes:1:ApiKey", "test-key");
    });

    private static async Task ShouldBeProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field, string because)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, $"{because}: {body}");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json", because);
        JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue($"{because}: the problem names {field}: {body}");
    }

    private static async Task<JsonElement> ChatAsync(HttpClient http, string prompt, string tenant)
    {
        using var response = await SendAsync(http, new { prompt }, tenant);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, object body, params string[] tenants)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/chat") { Content = JsonContent.Create(body) };
        foreach (var tenant in tenants)
        {
            request.Headers.TryAddWithoutValidation("X-Tenant", tenant);
        }

        return http.SendAsync(request);
    }
}
