using InferenceRouter.TestServer;
using StackExchange.Redis;

namespace InferenceRouter.Tests.Redis;

/// <summary>A fact that needs <c>redis-server</c>: skipped, saying how to install it, when it is not on PATH.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        Skip = RedisServer.Executable is null ? "needs redis-server on PATH (Debian/Ubuntu: apt-get install -y redis-server; .ci/run installs it)" : null;
    }
}

/// <summary>A theory that needs <c>redis-server</c>, skipped like <see cref="RedisFactAttribute"/>.</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute()
    {
        Skip = RedisServer.Executable is null ? "needs redis-server on PATH (Debian/Ubuntu: apt-get install -y redis-server; .ci/run installs it)" : null;
    }
}

/// <summary>Connects to a test <see cref="RedisServer"/>.</summary>
internal static class RedisServerExtensions
{
    public static Task<ConnectionMultiplexer> ConnectAsync(this RedisServer server) => ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
}
