using System.Diagnostics;
using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Quotas;

/// <summary>Quotas learned from the providers' rate-limit headers alone, against a loopback server that enforces its limit and counts its 429s.</summary>
[Collection(nameof(QuotaTests))]
public class LearnedQuotaTests
{
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task With_headers_alone_429s_fall_to_near_zero_after_the_first_seconds(bool anthropic, bool headers)
    {
        // The server allows 60 requests a minute (a burst of 60, then one a second); four callers ask as fast as they can for 5 s. With
        // the headers the route's quota follows what the server says is left; without them (the last case, which is how the router
        // worked before) only the 429s and their Retry-After slow it down.
        await using var server = await FakeProviderServer.StartAsync("p");
        server.Quota = new ServerQuota(requestsPerMinute: 60) { ArrivalAllowance = TimeSpan.FromSeconds(1), SendHeaders = headers };
        var limits = new ProviderRateLimits();
        var client = anthropic ? server.CreateAnthropicChatClient(limits) : server.CreateChatClient(limits);
        using var router = new RouterChatClient([new ChatRoute(new RouteDescriptor("p") { ModelId = "m" }, client)], new RouterOptions { QuotaQueueTimeout = TimeSpan.FromSeconds(2) });
        var clock = Stopwatch.StartNew();
        int earlyRejections = -1, answered = 0;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(2))
                {
                    Interlocked.CompareExchange(ref earlyRejections, server.RateLimitedRequests, -1);
                }

                try
                {
                    await router.GetResponseAsync(Prompt());
                    Interlocked.Increment(ref answered);
                }
                catch (Exception e) when (e is RouteQuotaExceededException or AllRoutesFailedException)
                {
                    await Task.Delay(20);
                }
            }
        }));

        int lateRejections = server.RateLimitedRequests - Math.Max(0, earlyRejections);
        if (headers)
        {
            lateRejections.Should().Be(0, "after the first seconds the route's quota knows what the server allows");
            server.RateLimitedRequests.Should().BeLessThanOrEqualTo(4, "at most the calls in flight before the first answer's headers arrived");
            limits.Readings.Should().BeGreaterThan(0);
            limits.IgnoredValues.Should().Be(0);
            answered.Should().BeGreaterThanOrEqualTo(60);
        }
        else
        {
            lateRejections.Should().BeGreaterThan(0, "without the headers the router learns of the limit only from the 429s");
        }
    }

    [Fact]
    public async Task Odd_header_values_are_ignored_and_counted_and_never_fail_a_call()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        string[] odd = ["garbage", "-5", "99999999999999999999", "1e5", "", "  ", "5m3x", "NaN", "-1s", "100000h", "1.2.3", "2030-13-45T99:00:00Z", "9999-12-31T00:00:00Z"];
        await using var server = await FakeProviderServer.StartAsync("p");
        server.Quota = new ServerQuota(requestsPerMinute: 1_000, tokensPerMinute: 1_000_000)
        {
            RewriteHeader = (_, value) => random.Next(3) == 0 ? value : odd[random.Next(odd.Length)],
        };
        var limits = new ProviderRateLimits();
        using var router = new RouterChatClient([
            new ChatRoute(new RouteDescriptor("openai") { ModelId = "m" }, server.CreateChatClient(limits)),
        ]);

        for (int i = 0; i < 30; i++)
        {
            (await router.GetResponseAsync(Prompt())).Text.Should().StartWith("Hello from", $"seed {seed}");
        }

        limits.IgnoredValues.Should().BeGreaterThan(0, $"seed {seed}");
        server.RateLimitedRequests.Should().Be(0);
    }

    [Theory]
    [InlineData("x-ratelimit-remaining-requests", "-3", "x-ratelimit-remaining-requests")]
    [InlineData("x-ratelimit-remaining-requests", "12abc", "x-ratelimit-remaining-requests")]
    [InlineData("x-ratelimit-limit-requests", "99999999999999", "x-ratelimit-remaining-requests")]
    [InlineData("x-ratelimit-limit-tokens", "-1", "x-ratelimit-remaining-tokens")]
    [InlineData("x-ratelimit-reset-requests", "6m0sx", "x-ratelimit-remaining-requests")]
    [InlineData("x-ratelimit-reset-requests", "25h", "x-ratelimit-remaining-requests")]
    [InlineData("anthropic-ratelimit-requests-reset", "yesterday", "anthropic-ratelimit-requests-remaining")]
    [InlineData("anthropic-ratelimit-requests-reset", "2099-01-01T00:00:00Z", "anthropic-ratelimit-requests-remaining")]
    [InlineData("anthropic-ratelimit-tokens-limit", "lots", "anthropic-ratelimit-tokens-remaining")]
    public void Each_odd_value_is_counted_once(string name, string value, string remaining)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [remaining] = "10" };
        headers[name] = value;
        var limits = new ProviderRateLimits();

        limits.Observe(h => headers.TryGetValue(h, out var v) ? v : null);

        limits.IgnoredValues.Should().Be(1);
        limits.Readings.Should().Be(name == remaining ? 0 : 1, "a reading with an unreadable count is dropped; one with an odd limit or reset keeps its count");
    }

    [Theory]
    [InlineData("20ms", 20)]
    [InlineData("1s", 1_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("6m0s", 360_000)]
    [InlineData("1h2m3s", 3_723_000)]
    public void OpenAI_reset_durations_are_read(string text, double milliseconds)
    {
        ProviderRateLimits.TryParseDuration(text, out var duration).Should().BeTrue();
        duration.TotalMilliseconds.Should().BeApproximately(milliseconds, 0.001);
    }

    [Fact]
    public async Task Routes_from_configuration_follow_their_providers_headers()
    {
        await using var server = await FakeProviderServer.StartAsync("s");
        server.Quota = new ServerQuota(requestsPerMinute: 3);
        var services = new ServiceCollection();
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Routes:0:Name"] = "azure",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = server.BaseUrl.ToString(),
            ["InferenceRouter:Routes:0:Model"] = "gpt",
        }).Build().GetSection("InferenceRouter"));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();

        for (int i = 0; i < 3; i++)
        {
            await client.GetResponseAsync(Prompt());
        }

        await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt())).Should().ThrowAsync<RouteQuotaExceededException>("the headers said none are left");
        server.RequestCount.Should().Be(3);
    }
}
