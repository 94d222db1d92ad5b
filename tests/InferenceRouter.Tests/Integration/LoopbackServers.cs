using InferenceRouter.TestServer;

namespace InferenceRouter.Tests.Integration;

/// <summary>Several fake OpenAI servers, each behind a route built with the real OpenAI SDK.</summary>
internal sealed class LoopbackServers : IAsyncDisposable
{
    private LoopbackServers(FakeProviderServer[] servers) => Servers = servers;

    public FakeProviderServer[] Servers { get; }

    public FakeProviderServer this[int index] => Servers[index];

    public static async Task<LoopbackServers> StartAsync(params string[] names)
    {
        var servers = await Task.WhenAll(names.Select(n => FakeProviderServer.StartAsync(n)));
        return new LoopbackServers(servers);
    }

    /// <summary>One route per server, named after it; <paramref name="describe"/> adds prices, capabilities…</summary>
    public ChatRoute[] Routes(Func<FakeProviderServer, RouteDescriptor, RouteDescriptor>? describe = null) =>
        [.. Servers.Select(s =>
        {
            var descriptor = new RouteDescriptor(s.Name) { ModelId = s.Name + "-model", Provider = "fake", Capabilities = RouteCapabilities.All };
            return new ChatRoute(describe?.Invoke(s, descriptor) ?? descriptor, s.CreateChatClient(s.Name + "-model"));
        })];

    public async ValueTask DisposeAsync()
    {
        foreach (var server in Servers)
        {
            await server.DisposeAsync();
        }
    }
}
