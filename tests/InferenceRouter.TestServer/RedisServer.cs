using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace InferenceRouter.TestServer;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port with its own temporary directory and AOF on, stopped (and its files deleted) on
/// dispose. Tests that need one skip, saying how to install it, when <see cref="Executable"/> is null.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _appendFsync;
    private readonly bool _cluster;
    private Process? _process;

    private RedisServer(string directory, int port, string appendFsync, bool cluster)
    {
        _directory = directory;
        _appendFsync = appendFsync;
        _cluster = cluster;
        Port = port;
    }

    private bool Exited => _process is { HasExited: true };

    /// <summary>Gets the path of <c>redis-server</c>, or null.</summary>
    public static string? Executable { get; } = FindExecutable();

    /// <summary>Gets the loopback port it listens on (the same across restarts).</summary>
    public int Port { get; }

    /// <summary>Gets a StackExchange.Redis connection string for it.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000";

    /// <summary>Starts a server in a new temporary directory.</summary>
    /// <param name="appendFsync">When AOF writes reach the disk: <c>always</c> (every write, the tests' setting) or <c>everysec</c>.</param>
    /// <param name="cluster">Whether to run as a one-node Redis Cluster holding every slot (keys then follow Cluster's rules).</param>
    /// <returns>The running server.</returns>
    public static async Task<RedisServer> StartAsync(string appendFsync = "always", bool cluster = false)
    {
        // A free port can be taken by another test between choosing it and binding it: then redis-server exits, and a new port is tried.
        for (int attempt = 1; ; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory("redis-test-").FullName;
            var server = new RedisServer(directory, FreePort(), appendFsync, cluster);
            try
            {
                await server.RestartAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Stops the server the hard way (SIGKILL): what AOF wrote survives, as after a crash.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    /// <summary>Starts (again) on the same port and directory, and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        Kill();
        var start = new ProcessStartInfo(Executable ?? throw new InvalidOperationException("redis-server is not on PATH."))
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory, "--appendonly", "yes", "--appendfsync", _appendFsync, "--save", "", "--protected-mode", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (_cluster)
        {
            foreach (var argument in new[] { "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        for (int attempt = 0; attempt < 100; attempt++)
        {
            if (Exited)
            {
                throw new InvalidOperationException($"redis-server exited at start (port {Port} taken?).");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                using var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                int read = await stream.ReadAsync(buffer);
                if (System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal) && !Exited)
                {
                    if (_cluster)
                    {
                        await ClaimAllSlotsAsync(stream);
                    }

                    return;
                }
            }
            catch (SocketException)
            {
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException($"redis-server did not answer on port {Port}.");
    }

    /// <summary>Makes this node a whole Cluster (every slot; kept in nodes.conf across restarts) and waits until it is ready.</summary>
    private static async Task ClaimAllSlotsAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        await stream.WriteAsync("CLUSTER ADDSLOTSRANGE 0 16383\r\n"u8.ToArray());
        _ = await stream.ReadAsync(buffer);  // +OK, or an error after a restart (the slots are already this node's)
        for (int attempt = 0; attempt < 100; attempt++)
        {
            await stream.WriteAsync("CLUSTER INFO\r\n"u8.ToArray());
            int read = await stream.ReadAsync(buffer);
            if (System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("The one-node Redis Cluster did not become ready.");
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "redis-server"))
            .FirstOrDefault(File.Exists);
}
