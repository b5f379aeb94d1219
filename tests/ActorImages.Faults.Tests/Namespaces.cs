using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ActorImages.Testing;

namespace ActorImages.Faults.Tests;

/// <summary>
/// Test hosts in Linux network namespaces that the partition test creates and removes itself: <c>count</c>
/// namespaces <c>aif-n1</c> …, each with one veth link (<c>aif-v1</c> ↔ <c>aif-p1</c> …) to a bridge <c>aif-br</c> in
/// the test's own namespace; host i at <c>10.250.69.i</c>, the test (and the catalog's relay) at
/// <c>10.250.69.254</c>. A partition is made with blackhole routes between hosts, so the test still reaches every side
/// and every side still reaches the catalog. <see cref="WriteHosts"/> gives every host a name resolving to all hosts,
/// as a compose service name resolves to every container. Needs root and iproute2; every name begins with
/// <c>aif-</c>, and leftovers of an interrupted run (namespaces, links, hosts files) are removed before a new one.
/// </summary>
public sealed class Namespaces : IDisposable
{
    private const string Prefix = "aif-";
    private const string Bridge = Prefix + "br";
    private const int MaxHosts = 9;

    /// <summary>Where <c>ip netns exec NS</c> finds the files it bind-mounts over <c>/etc/</c> for namespace NS.</summary>
    private const string EtcNetns = "/etc/netns";

    /// <summary>The test's own address on the bridge.</summary>
    public const string Gateway = "10.250.69.254";

    private readonly int _count;

    private Namespaces(int count) => _count = count;

    /// <summary>Whether this machine lets the test create namespaces (root and <c>ip</c> present).</summary>
    /// <returns>True when a probe namespace could be made and removed.</returns>
    public static bool Available()
    {
        try
        {
            Run(false, "ip", "netns", "add", Prefix + "probe");
            Run(false, "ip", "netns", "del", Prefix + "probe");
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Creates <paramref name="count"/> hosts and the bridge; removes leftovers of an earlier run first.</summary>
    /// <param name="count">Hosts, 1 … 9.</param>
    /// <returns>The hosts.</returns>
    public static Namespaces Create(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxHosts);
        var ns = new Namespaces(count);
        ns.Dispose();
        try
        {
            Run(false, "ip", "link", "add", Bridge, "type", "bridge");
            Run(false, "ip", "addr", "add", Gateway + "/24", "dev", Bridge);
            Run(false, "ip", "link", "set", Bridge, "up");
            for (var i = 1; i <= count; i++)
            {
                var name = ns.Namespace(i);
                Run(false, "ip", "netns", "add", name);
                Run(false, "ip", "netns", "exec", name, "ip", "link", "set", "lo", "up");
                Run(false, "ip", "link", "add", $"{Prefix}v{i}", "type", "veth", "peer", "name", $"{Prefix}p{i}");
                Run(false, "ip", "link", "set", $"{Prefix}p{i}", "netns", name);
                Run(false, "ip", "link", "set", $"{Prefix}v{i}", "master", Bridge);
                Run(false, "ip", "link", "set", $"{Prefix}v{i}", "up");
                Run(false, "ip", "netns", "exec", name, "ip", "addr", "add", ns.Host(i) + "/24", "dev", $"{Prefix}p{i}");
                Run(false, "ip", "netns", "exec", name, "ip", "link", "set", $"{Prefix}p{i}", "up");
            }
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>The address of host <paramref name="i"/>.</summary>
    /// <param name="i">1-based.</param>
    /// <returns><c>10.250.69.i</c>.</returns>
    public string Host(int i) => $"10.250.69.{i}";

    /// <summary>Every host's address, host 1 first.</summary>
    public IReadOnlyList<string> Hosts => Enumerable.Range(1, _count).Select(Host).ToList();

    /// <summary>The namespace of host <paramref name="i"/>.</summary>
    /// <param name="i">1-based.</param>
    /// <returns>Its name.</returns>
    public string Namespace(int i) => $"{Prefix}n{i}";

    /// <summary>The command prefix that runs a program on host <paramref name="i"/> (it execs the program).</summary>
    /// <param name="i">1-based.</param>
    /// <returns><c>ip netns exec aif-nI</c>.</returns>
    public IReadOnlyList<string> Launcher(int i) => ["ip", "netns", "exec", Namespace(i)];

    /// <summary>
    /// Makes <paramref name="name"/> resolve to every host's address inside every host's namespace, host 1 first, as
    /// the DNS of <c>docker compose</c> resolves a service name to every container of the service (README "Docker"):
    /// writes <c>/etc/netns/aif-nI/hosts</c>, which <c>ip netns exec</c> (the <see cref="Launcher"/>) mounts over
    /// <c>/etc/hosts</c>, with <c>localhost</c> and one line per host. All addresses of the name are returned only with
    /// <c>multi on</c> in <c>/etc/host.conf</c> (Debian's default), which the namespaces share with this machine.
    /// <see cref="Dispose"/> removes the files.
    /// </summary>
    /// <param name="name">The name, e.g. <c>node</c>.</param>
    public void WriteHosts(string name)
    {
        var lines = new List<string> { "127.0.0.1 localhost" };
        lines.AddRange(Hosts.Select(host => $"{host} {name}"));
        for (var i = 1; i <= _count; i++)
        {
            var dir = Path.Combine(EtcNetns, Namespace(i));
            Directory.CreateDirectory(dir);
            File.WriteAllLines(Path.Combine(dir, "hosts"), lines);
        }
    }

    /// <summary>Cuts host <paramref name="lonely"/> off from every other host, both directions; the test and the
    /// catalog's relay still reach it.</summary>
    /// <param name="lonely">1-based.</param>
    public void Isolate(int lonely) => Routes("add", lonely);

    /// <summary>Undoes <see cref="Isolate"/>.</summary>
    /// <param name="lonely">1-based.</param>
    public void Heal(int lonely) => Routes("del", lonely);

    private void Routes(string op, int lonely)
    {
        for (var i = 1; i <= _count; i++)
        {
            if (i == lonely) continue;
            Run(false, "ip", "netns", "exec", Namespace(lonely), "ip", "route", op, "blackhole", Host(i) + "/32");
            Run(false, "ip", "netns", "exec", Namespace(i), "ip", "route", op, "blackhole", Host(lonely) + "/32");
        }
    }

    /// <summary>Removes every namespace, link, hosts file (<see cref="WriteHosts"/>) and the bridge this class makes;
    /// quiet about those already gone.</summary>
    public void Dispose()
    {
        for (var i = 1; i <= MaxHosts; i++)
        {
            Run(true, "ip", "netns", "del", Namespace(i));
            var dir = Path.Combine(EtcNetns, Namespace(i));
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        for (var i = 1; i <= MaxHosts; i++) Run(true, "ip", "link", "del", $"{Prefix}v{i}");
        Run(true, "ip", "link", "del", Bridge);
    }

    private static void Run(bool quiet, params string[] command)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException(command[0] + " did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var done = process.WaitForExit(10_000);
        if (!done) process.Kill();
        if ((!done || process.ExitCode != 0) && !quiet)
            throw new InvalidOperationException($"{string.Join(' ', command)} failed: {output.Result}{error.Result}".Trim());
    }
}

/// <summary>
/// A TCP relay from the bridge to the tests' PostgreSQL server, which listens on 127.0.0.1 of the test's own
/// namespace only: nodes in namespaces reach the catalog through <c>10.250.69.254:port</c>. The server sees the
/// relay's loopback connections, which its trust rule admits. Both sides of a partition keep reaching it, as they
/// would reach a database server outside the cut.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = new();
    private readonly Task _accepting;

    /// <summary>Starts relaying from <paramref name="listen"/> (an ephemeral port) to <paramref name="target"/>.</summary>
    /// <param name="listen">The address to listen on.</param>
    /// <param name="target">Where each connection goes.</param>
    public TcpRelay(IPAddress listen, IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(listen, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Creates a fresh, empty database on the tests' PostgreSQL server and a relay to it on
    /// <see cref="Namespaces.Gateway"/>.</summary>
    /// <returns>The relay, and the database's URL as nodes in the namespaces reach it (<c>ACTORIMAGES_DB_URL</c>).</returns>
    public static async Task<(TcpRelay Relay, string DbUrl)> ToFreshDatabaseAsync()
    {
        var db = new Uri(await PostgresServer.CreateDatabaseUrlAsync());
        var relay = new TcpRelay(IPAddress.Parse(Namespaces.Gateway), new IPEndPoint(IPAddress.Loopback, db.Port));
        return (relay, $"postgresql://{db.UserInfo}@{Namespaces.Gateway}:{relay.Port}{db.AbsolutePath}");
    }

    /// <summary>The port the relay listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = RelayAsync(inbound);
        }
    }

    private async Task RelayAsync(TcpClient inbound)
    {
        using var outbound = new TcpClient();
        lock (_open)
        {
            _open.Add(inbound);
            _open.Add(outbound);
        }
        try
        {
            await outbound.ConnectAsync(_target, _stop.Token);
            var a = inbound.GetStream();
            var b = outbound.GetStream();
            // Either direction ending ends both: a node's pool sees its connection close, as with a server restart.
            await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            inbound.Dispose();
            lock (_open)
            {
                _open.Remove(inbound);
                _open.Remove(outbound);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_open) foreach (var c in _open) c.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}
