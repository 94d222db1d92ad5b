using InferenceRouter.TestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static InferenceRouter.Tests.Routes;

namespace InferenceRouter.Tests.Quotas;

/// <summary>
/// Declared quotas against a loopback server that enforces the same limits (429 beyond them, counted by the server): the router spreads
/// the load before the provider refuses, releases what each attempt holds exactly once however it ends, and names the full routes.
/// </summary>
[Collection(nameof(QuotaTests))]
public class DeclaredQuotaTests
{
    [Fact]
    public async Task Two_routes_at_twice_one_routes_quota_get_no_429_and_every_call_is_answered()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        int quota = random.Next(15, 40);
        int beyond = random.Next(2, 5); // calls beyond both buckets: they wait for a refill (QuotaQueueTimeout)
        await using var a = await FakeProviderServer.StartAsync("a", new ServerBehavior { Latency = TimeSpan.FromMilliseconds(5) });
        await using var b = await FakeProviderServer.StartAsync("b", new ServerBehavior { Latency = TimeSpan.FromMilliseconds(5) });
        a.Quota = new ServerQuota(requestsPerMinute: quota) { ArrivalAllowance = TimeSpan.FromSeconds(1) };
        b.Quota = new ServerQuota(requestsPerMinute: quota) { ArrivalAllowance = TimeSpan.FromSeconds(1) };
        using var router = new RouterChatClient(
            [Route("a", a, new RouteQuota { RequestsPerMinute = quota }), Route("b", b, new RouteQuota { RequestsPerMinute = quota })],
            new RouterOptions { QuotaQueueTimeout = TimeSpan.FromSeconds(30) });

        var calls = Enumerable.Range(0, (2 * quota) + beyond).Select(async i =>
        {
            bool streaming = random.Next(2) == 0;
            var answer = streaming ? await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync() : await router.GetResponseAsync(Prompt());
            return answer.Text;
        });
        var answers = await Task.WhenAll(calls);

        answers.Should().OnlyContain(text => text.StartsWith("Hello from", StringComparison.Ordinal), $"every call is answered (seed {seed})");
        (a.RateLimitedRequests + b.RateLimitedRequests).Should().Be(0, $"no call went to a full route (seed {seed}, quota {quota})");
        (a.Quota.Admitted + b.Quota.Admitted).Should().Be((2 * quota) + beyond);
        a.Quota.Admitted.Should().BeInRange(quota, quota + beyond, "the first route takes its whole burst, then the refills split");
    }

    [Fact]
    public async Task Without_the_declaration_the_same_load_gets_429s_from_the_server()
    {
        // The test above can fail: the same servers and load with no quota declared see the provider refuse.
        int quota = 20;
        await using var a = await FakeProviderServer.StartAsync("a");
        await using var b = await FakeProviderServer.StartAsync("b");
        a.Quota = new ServerQuota(requestsPerMinute: quota);
        b.Quota = new ServerQuota(requestsPerMinute: quota);
        using var router = new RouterChatClient([Route("a", a, null), Route("b", b, null)]);

        await Task.WhenAll(Enumerable.Range(0, 2 * quota).Select(async _ =>
        {
            try
            {
                await router.GetResponseAsync(Prompt());
            }
            catch (AllRoutesFailedException)
            {
                // some calls fail outright: both routes were cooling down after their 429s
            }
        }));

        (a.RateLimitedRequests + b.RateLimitedRequests).Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task When_every_route_is_full_the_call_fails_at_once_naming_each_route_and_when_it_frees_up()
    {
        int quota = Random.Shared.Next(2, 6);
        await using var a = await FakeProviderServer.StartAsync("a");
        await using var b = await FakeProviderServer.StartAsync("b");
        using var router = new RouterChatClient([Route("a", a, new RouteQuota { RequestsPerMinute = quota }), Route("b", b, new RouteQuota { RequestsPerMinute = quota })]);
        for (int i = 0; i < 2 * quota; i++)
        {
            await router.GetResponseAsync(Prompt());
        }

        var error = (await FluentActions.Awaiting(() => router.GetResponseAsync(Prompt())).Should().ThrowAsync<RouteQuotaExceededException>()).Which;

        error.Routes.Select(r => r.Route).Should().Equal("a", "b");
        error.Routes.Should().OnlyContain(r => r.Limit == "requests per minute" && r.RetryAfter > TimeSpan.Zero && r.RetryAfter <= TimeSpan.FromMinutes(1.0 / quota));
        error.Message.Should().Contain("'a'").And.Contain("'b'").And.Contain("frees up in");
        (a.RequestCount + b.RequestCount).Should().Be(2 * quota, "the denied call was sent nowhere");
    }

    [Fact]
    public async Task A_concurrency_permit_is_released_exactly_once_however_the_attempt_ends()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        int max = random.Next(1, 4);
        await using var server = await FakeProviderServer.StartAsync("c"); // no server quota yet: an abandoned stream ends at the server a little after its reader let go
        server.Script = n => (n % 5) switch
        {
            0 => new ServerBehavior { Fault = ServerFault.DropMidStream, Chunks = 4, DropAfterChunks = 1 },
            1 => ServerBehavior.Error(500),
            _ => new ServerBehavior { Latency = TimeSpan.FromMilliseconds(random.Next(1, 20)), InterChunkDelay = TimeSpan.FromMilliseconds(5), Chunks = 4 },
        };
        using var router = new RouterChatClient(
            [Route("c", server, new RouteQuota { MaxConcurrency = max })],
            new RouterOptions { QuotaQueueTimeout = TimeSpan.FromSeconds(30), CircuitBreaker = new RouteCircuitBreakerOptions { Enabled = false }, RateLimitCooldown = TimeSpan.Zero });

        // Every way an attempt ends: answered, failed (500), a stream read to its end, cut by the server, abandoned by its reader.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            try
            {
                switch (i % 3)
                {
                    case 0:
                        await router.GetResponseAsync(Prompt());
                        break;
                    case 1:
                        await foreach (var update in router.GetStreamingResponseAsync(Prompt()))
                        {
                            break; // abandoned after its first update: the permit comes back when the reader lets go
                        }

                        break;
                    default:
                        await router.GetStreamingResponseAsync(Prompt()).ToChatResponseAsync();
                        break;
                }
            }
            catch (Exception e) when (e is AllRoutesFailedException or HttpRequestException or IOException or System.ClientModel.ClientResultException)
            {
                // the scripted failures (a 500, a dropped stream)
            }
        }));

        // Then twice the limit at once, each held 200 ms by the server: exactly the limit runs together. A permit lost by any ending
        // above would leave fewer; one released twice would let more through.
        server.Script = null;
        server.Quota = new ServerQuota(maxConcurrency: max);
        server.DefaultBehavior = new ServerBehavior { Latency = TimeSpan.FromMilliseconds(200) };
        var after = await Task.WhenAll(Enumerable.Range(0, 2 * max).Select(_ => router.GetResponseAsync(Prompt())));

        after.Should().HaveCount(2 * max);
        server.Quota.PeakConcurrency.Should().Be(max, $"seed {seed}");
        server.RateLimitedRequests.Should().Be(0, $"seed {seed}");
    }

    [Fact]
    public async Task Tokens_given_back_when_the_usage_is_less_than_the_estimate()
    {
        // Each call reserves its prompt's bound plus its 500-token output limit, but is billed 8: given back, 40 calls fit a 2,000 TPM
        // quota one after another (without the give-back, 3 would).
        await using var server = await FakeProviderServer.StartAsync("t", new ServerBehavior { PromptTokens = 1, CompletionTokens = 7 });
        server.Quota = new ServerQuota(tokensPerMinute: 2_000);
        using var router = new RouterChatClient([Route("t", server, new RouteQuota { TokensPerMinute = 2_000 })]);

        for (int i = 0; i < 40; i++)
        {
            await router.GetResponseAsync(Prompt(), new ChatOptions { MaxOutputTokens = 500 });
        }

        server.Quota.Admitted.Should().Be(40);
    }

    [Fact]
    public async Task Tokens_taken_after_the_call_when_the_usage_is_more_than_the_estimate()
    {
        // No output limit: only the prompt's bound (about 400) is reserved, and each call is billed 500; the rest is taken after the
        // call, so after four the router knows the 2,000 TPM are spent and sends nothing the server would refuse.
        await using var server = await FakeProviderServer.StartAsync("t", new ServerBehavior { PromptTokens = 100, CompletionTokens = 400 });
        server.Quota = new ServerQuota(tokensPerMinute: 2_000);
        using var router = new RouterChatClient([Route("t", server, new RouteQuota { TokensPerMinute = 2_000 })]);
        var prompt = Prompt(new string('x', 400));
        int answered = 0;

        var error = await FluentActions.Awaiting(async () =>
        {
            for (int i = 0; i < 10; i++)
            {
                await router.GetResponseAsync(prompt);
                answered++;
            }
        }).Should().ThrowAsync<RouteQuotaExceededException>();

        error.Which.Routes.Single().Limit.Should().Be("tokens per minute");
        answered.Should().Be(4);
        server.RateLimitedRequests.Should().Be(0);
    }

    [Fact]
    public void Quotas_bind_from_appsettings_and_bad_ones_fail_at_start_naming_the_key_and_the_fix()
    {
        var services = new ServiceCollection();
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:QuotaQueueTimeout"] = "-00:00:01",
            ["InferenceRouter:Routes:0:Name"] = "azure",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = "http://127.0.0.1:9/v1",
            ["InferenceRouter:Routes:0:Model"] = "gpt",
            ["InferenceRouter:Routes:0:Quota:TokensPerMinute"] = "0",
            ["InferenceRouter:Routes:0:Quota:MaxConcurrency"] = "-2",
        }).Build().GetSection("InferenceRouter"));
        using var provider = services.BuildServiceProvider();

        var failures = FluentActions.Invoking(() => provider.GetRequiredService<IChatClient>()).Should().Throw<OptionsValidationException>().Which.Failures;

        failures.Should().Contain(f => f.Contains("Quota:TokensPerMinute 0", StringComparison.Ordinal) && f.Contains("240000", StringComparison.Ordinal));
        failures.Should().Contain(f => f.Contains("Quota:MaxConcurrency -2", StringComparison.Ordinal));
        failures.Should().Contain(f => f.Contains("QuotaQueueTimeout is -00:00:01", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_quota_from_appsettings_holds_on_the_router_it_builds()
    {
        await using var server = await FakeProviderServer.StartAsync("s");
        var services = new ServiceCollection();
        services.AddInferenceRouter(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InferenceRouter:Routes:0:Name"] = "azure",
            ["InferenceRouter:Routes:0:Provider"] = "OpenAICompatible",
            ["InferenceRouter:Routes:0:Endpoint"] = server.BaseUrl.ToString(),
            ["InferenceRouter:Routes:0:Model"] = "gpt",
            ["InferenceRouter:Routes:0:Quota:RequestsPerMinute"] = "3",
        }).Build().GetSection("InferenceRouter"));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();

        for (int i = 0; i < 3; i++)
        {
            await client.GetResponseAsync(Prompt());
        }

        await FluentActions.Awaiting(() => client.GetResponseAsync(Prompt())).Should().ThrowAsync<RouteQuotaExceededException>();
        server.RequestCount.Should().Be(3);
    }

    private static ChatRoute Route(string name, FakeProviderServer server, RouteQuota? quota) =>
        new(new RouteDescriptor(name) { ModelId = name + "-model", Quota = quota }, server.CreateChatClient(name + "-model"));
}

[CollectionDefinition(nameof(QuotaTests), DisableParallelization = true)]
public sealed class QuotaTests
{
}
