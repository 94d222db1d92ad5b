using System.Globalization;
using InferenceRouter.TestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static InferenceRouter.Tests.Routing.FailureClassificationMatrixTests;

namespace InferenceRouter.Tests.Health;

/// <summary>Rate limits on every provider: a cooldown with or without a usable Retry-After, and the failures count toward the circuit as configured.</summary>
public class RateLimitTests
{
    public static TheoryData<string, string, bool> RateLimits() => new()
    {
        { "OpenAI", "429", false },
        { "OpenAI", "event", true },
        { "Anthropic", "429", true },
        { "Anthropic", "event", true },
        { "Ollama", "429", false },
        { "Ollama", "429", true },
    };

    [Theory]
    [MemberData(nameof(RateLimits))]
    public async Task Five_straight_rate_limits_without_a_usable_retry_after_cool_the_route_down_and_open_its_circuit(string provider, string shape, bool streaming)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var limited = await FakeProviderServer.StartAsync("limited", Limited(provider, shape));
        await using var spare = await FakeProviderServer.StartAsync("spare");
        await using var app = Build(null, [("limited", provider, limited, null), ("spare", "OpenAICompatible", spare, null)], new()
        {
            ["InferenceRouter:RateLimitCooldown"] = "00:00:10",
            ["InferenceRouter:CircuitBreaker:MinimumThroughput"] = "5",
            ["InferenceRouter:CircuitBreaker:FailureRatio"] = "0.5",
            ["InferenceRouter:CircuitBreaker:SamplingDuration"] = "00:05:00",
            ["InferenceRouter:CircuitBreaker:BreakDuration"] = "00:01:00",
        }, time);
        var client = app.GetRequiredService<IChatClient>();
        var health = app.GetRequiredService<RouterChatClient>().GetRoute("limited").Health;

        for (int i = 1; i <= 5; i++)
        {
            var response = await Call(client, streaming);
            response.Text.Should().Be("Hello from spare");
            response.GetRoutingInfo()!.Attempts[0].Should().Match<RouteAttempt>(a => a.Route == "limited" && a.Failure == FailureKind.RateLimited && a.StatusCode == (provider == "Anthropic" && shape == "event" ? 529 : 429));
            limited.RequestCount.Should().Be(i);

            // Within the cooldown the route is left alone (after the fifth, its open circuit holds it longer).
            health.GetSnapshot().UnavailableUntil.Should().BeOnOrAfter(time.GetUtcNow() + TimeSpan.FromSeconds(10));
            if (i < 5)
            {
                health.GetSnapshot().UnavailableUntil.Should().Be(time.GetUtcNow() + TimeSpan.FromSeconds(10), "RateLimitCooldown, without a usable Retry-After");
            }

            time.Advance(TimeSpan.FromSeconds(5));
            (await Call(client, streaming)).Text.Should().Be("Hello from spare");
            limited.RequestCount.Should().Be(i, "a rate-limited route cools down even without a Retry-After");
            time.Advance(TimeSpan.FromSeconds(6));
        }

        health.CircuitState.Should().Be(RouteCircuitState.Open, "5 straight rate limits of 5 judged calls open a circuit set to trip at 5 calls and ratio 0.5");
        health.GetSnapshot().Failures.Should().Be(5);
    }

    [Theory]
    [InlineData("Anthropic", "retry-after-ms", "2500", 2.5)]
    [InlineData("Ollama", "Retry-After", "12", 12.0)]
    [InlineData("Ollama", "x-ratelimit-reset-requests", "1m30s", 90.0)]
    [InlineData("Anthropic", "anthropic-ratelimit-requests-reset", "date+40", 40.0)]
    public async Task The_wait_a_provider_asks_for_is_read_from_its_headers_on_routes_whose_sdk_hides_them(string provider, string header, string value, double seconds)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2031, 3, 4, 5, 6, 0, TimeSpan.Zero));
        if (value == "date+40")
        {
            value = (time.GetUtcNow() + TimeSpan.FromSeconds(40)).ToString("O", CultureInfo.InvariantCulture);
        }

        var headers = new Dictionary<string, string> { [header] = value };
        if (header.StartsWith("anthropic-", StringComparison.Ordinal) || header.StartsWith("x-", StringComparison.Ordinal))
        {
            headers[header.Replace("reset", "remaining", StringComparison.Ordinal)] = "0";
        }

        await using var limited = await FakeProviderServer.StartAsync("limited", new ServerBehavior { StatusCode = 429, Headers = headers });
        await using var spare = await FakeProviderServer.StartAsync("spare");
        await using var app = Build(null, [("limited", provider, limited, null), ("spare", "OpenAICompatible", spare, null)], time: time);

        (await app.GetRequiredService<IChatClient>().GetResponseAsync("Hi")).Text.Should().Be("Hello from spare");

        app.GetRequiredService<RouterChatClient>().GetRoute("limited").Health.GetSnapshot().UnavailableUntil.Should().Be(time.GetUtcNow() + TimeSpan.FromSeconds(seconds));
    }

    [Theory]
    [InlineData("retry-after-ms", "250", null, null, 0.25)]
    [InlineData("Retry-After", "3", null, null, 3.0)]
    [InlineData("Retry-After", "Infinity", null, null, 86_400.0)]
    [InlineData("x-ratelimit-reset-tokens", "6m0s", "x-ratelimit-remaining-tokens", "0", 360.0)]
    [InlineData("x-ratelimit-reset-requests", "20ms", null, null, 0.02)]
    [InlineData("x-ratelimit-reset-requests", "0.5s", null, null, 0.5)]
    [InlineData("Retry-After", "soon", null, null, null)]
    [InlineData("x-ratelimit-reset-requests", "1x", null, null, null)]
    public void Retry_after_headers_read_one_way_for_every_provider(string header, string value, string? other, string? otherValue, double? seconds)
    {
        var now = DateTimeOffset.UtcNow;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [header] = value };
        if (other is not null)
        {
            headers[other] = otherValue!;
        }

        var wait = ProviderRetryAfter.Read(name => headers.TryGetValue(name, out var v) ? v : null, now);

        wait.Should().Be(seconds is { } s ? TimeSpan.FromSeconds(s) : null);
    }

    [Fact]
    public void An_exhausted_limit_says_how_long_and_otherwise_the_soonest_reset_does()
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["x-ratelimit-reset-requests"] = "2s", ["x-ratelimit-remaining-requests"] = "10",
            ["x-ratelimit-reset-tokens"] = "45s", ["x-ratelimit-remaining-tokens"] = "0",
        };
        ProviderRetryAfter.Read(n => headers.TryGetValue(n, out var v) ? v : null, DateTimeOffset.UtcNow).Should().Be(TimeSpan.FromSeconds(45));

        headers["x-ratelimit-remaining-tokens"] = "5";
        ProviderRetryAfter.Read(n => headers.TryGetValue(n, out var v) ? v : null, DateTimeOffset.UtcNow).Should().Be(TimeSpan.FromSeconds(2));
    }

    private static ServerBehavior Limited(string provider, string shape) => (provider, shape) switch
    {
        ("OpenAI", "event") => new ServerBehavior { RawBody = "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}\n\n" },
        ("Anthropic", "event") => new ServerBehavior { RawBody = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n" },
        _ => new ServerBehavior { StatusCode = 429, Headers = new Dictionary<string, string> { ["Retry-After"] = "0" } },
    };
}
