namespace ActorImages.Testing;

/// <summary>
/// A real cluster of <see cref="NodeProcess"/>es for one test class: node i on <c>127.0.{Subnet}.i</c>, the first
/// three (or fewer) the seeds, one fresh database on the tests' private PostgreSQL server, data under a temp folder
/// that is removed afterwards unless the test failed. Each test class picks its own subnet so classes of different
/// assemblies can run at the same time.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly string _root;

    private TestCluster(int subnet, string dbUrl, string root, IReadOnlyList<NodeProcess> nodes)
    {
        Subnet = subnet;
        DbUrl = dbUrl;
        _root = root;
        Nodes = nodes;
    }

    /// <summary>The third byte of every node's address (0 for a cluster on hosts given one by one).</summary>
    public int Subnet { get; }

    /// <summary>The folder holding every node's data directory and log.</summary>
    public string Root => _root;

    /// <summary>The cluster's catalog database.</summary>
    public string DbUrl { get; }

    /// <summary>The nodes, index 0 = node 1.</summary>
    public IReadOnlyList<NodeProcess> Nodes { get; }

    /// <summary>Node <paramref name="i"/> (1-based).</summary>
    /// <param name="i">The node number.</param>
    public NodeProcess this[int i] => Nodes[i - 1];

    /// <summary>Starts <paramref name="count"/> nodes and waits until every one sees all of them Up.</summary>
    /// <param name="subnet">The third address byte, unique per test class (10..250).</param>
    /// <param name="count">How many nodes.</param>
    /// <param name="extra">More <c>ACTORIMAGES_*</c> variables for every node.</param>
    /// <param name="timeout">How long to wait for Up (default 90 s).</param>
    /// <param name="dbUrl">The catalog database; default: a fresh one on the tests' shared server.</param>
    /// <param name="started">How many of the nodes (the first ones) to start now, default all; a test starts the
    /// others later (<see cref="NodeProcess.Start"/>, then <see cref="WaitUpAsync"/>) to grow the cluster.</param>
    /// <returns>The running cluster.</returns>
    /// <exception cref="TimeoutException">Not all Up in time; the message holds the nodes' log tails.</exception>
    public static async Task<TestCluster> StartAsync(int subnet, int count,
        IReadOnlyDictionary<string, string>? extra = null, TimeSpan? timeout = null, string? dbUrl = null, int? started = null)
    {
        dbUrl ??= await PostgresServer.CreateDatabaseUrlAsync();
        var root = Path.Combine(Path.GetTempPath(), $"actorimages-test-{subnet}-{Guid.NewGuid():N}");
        var seeds = Enumerable.Range(1, Math.Min(3, count)).Select(i => $"127.0.{subnet}.{i}").ToList();
        var nodes = Enumerable.Range(1, count)
            .Select(i => new NodeProcess($"127.0.{subnet}.{i}", Path.Combine(root, $"node-{i}", "data"), dbUrl, seeds, extra))
            .ToList();
        var cluster = new TestCluster(subnet, dbUrl, root, nodes);
        foreach (var node in nodes.Take(started ?? count)) node.Start();
        try
        {
            await cluster.WaitUpAsync(started ?? count, timeout ?? TimeSpan.FromSeconds(90));
        }
        catch
        {
            // xUnit does not dispose a fixture whose initialisation failed: stop the processes here.
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
            throw;
        }
        return cluster;
    }

    /// <summary>
    /// Starts one node per host in <paramref name="hosts"/> (node i on hosts[i-1], the first three the seeds) and
    /// waits until every one sees all of them Up: for nodes in network namespaces (each under its own
    /// <paramref name="launcher"/>), or a cluster that must find the database of an earlier one.
    /// </summary>
    /// <param name="hosts">The nodes' addresses.</param>
    /// <param name="dbUrl">The catalog database as the nodes reach it, or null for a fresh one on the tests' server.</param>
    /// <param name="extra">More <c>ACTORIMAGES_*</c> variables for every node.</param>
    /// <param name="launcher">Node number (1-based) → the command it runs under, or null for none.</param>
    /// <param name="timeout">How long to wait for Up (default 90 s).</param>
    /// <param name="root">The folder of the nodes' data and logs, or null for a fresh temp folder; a folder of an
    /// earlier cluster brings its data back (a restart).</param>
    /// <param name="holdOutput">Leave every node's standard output unread (<see cref="NodeProcess.ReleaseOutput"/>).</param>
    /// <param name="command">Node number (1-based) → the node's own command (<see cref="NodeProcess"/>'s
    /// <c>command</c>), or null for this build's.</param>
    /// <returns>The running cluster.</returns>
    /// <exception cref="TimeoutException">Not all Up in time; the message holds the nodes' log tails.</exception>
    public static async Task<TestCluster> StartAsync(IReadOnlyList<string> hosts, string? dbUrl = null,
        IReadOnlyDictionary<string, string>? extra = null, Func<int, IReadOnlyList<string>?>? launcher = null,
        TimeSpan? timeout = null, string? root = null, bool holdOutput = false,
        Func<int, IReadOnlyList<string>?>? command = null)
    {
        dbUrl ??= await PostgresServer.CreateDatabaseUrlAsync();
        root ??= Path.Combine(Path.GetTempPath(), $"actorimages-test-{hosts[0]}-{Guid.NewGuid():N}");
        var seeds = hosts.Take(3).ToList();
        var nodes = hosts.Select((host, i) => new NodeProcess(host, Path.Combine(root, $"node-{i + 1}", "data"), dbUrl, seeds, extra,
            launcher?.Invoke(i + 1), holdOutput, command?.Invoke(i + 1))).ToList();
        var cluster = new TestCluster(0, dbUrl, root, nodes);
        foreach (var node in nodes) node.Start();
        try
        {
            await cluster.WaitUpAsync(nodes.Count, timeout ?? TimeSpan.FromSeconds(90));
        }
        catch
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
            throw;
        }
        return cluster;
    }

    /// <summary>Announces a full stop to every running node (<c>POST /api/cluster/stopping</c>, as <c>bin/cluster
    /// down</c> does): for two minutes leaving nodes keep their images where they are and nobody repairs, so stopping
    /// every node is quick and leaves the replica sets as they were. Each node is told itself, not only through the
    /// first one's publish, which a node may not have received when its SIGTERM comes.</summary>
    /// <returns>Whether a node took it.</returns>
    public async Task<bool> AnnounceStopAsync()
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var taken = await Task.WhenAll(Nodes.Where(n => n.IsRunning).Select(async node =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node.HttpBase, "api/cluster/stopping"));
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", NodeProcess.AdminToken);
            try
            {
                using var response = await http.SendAsync(request);
                return response.StatusCode == System.Net.HttpStatusCode.Accepted;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false; // that node is not answering; the others' publish reaches it if it is up
            }
        }));
        return taken.Any(t => t);
    }

    /// <summary>Waits until every running node sees <paramref name="count"/> members Up and answers <c>/ready</c>.</summary>
    /// <param name="count">Members expected Up.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>A task that completes when they do.</returns>
    /// <exception cref="TimeoutException">Not in time; the message holds the nodes' log tails.</exception>
    /// <exception cref="InvalidOperationException">Too many nodes have exited for <paramref name="count"/> to be Up.</exception>
    public async Task WaitUpAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            var running = Nodes.Where(n => n.IsRunning).ToList();
            // A node that exited (refused its configuration, crashed) will not come Up: say so now, not in 90 s.
            if (Nodes.Count(n => n.ExitCode is null) < count)
                throw new InvalidOperationException($"cluster {string.Join(",", Nodes.Select(n => n.Host))} cannot have {count} Up: " +
                    string.Join(", ", Nodes.Where(n => n.ExitCode is not null).Select(n => $"{n.Host} exited with code {n.ExitCode}")) +
                    "\n" + Logs());
            var ok = running.Count >= count;
            var views = new List<string>();
            foreach (var node in running)
            {
                var up = await node.UpMembersAsync();
                var ready = await node.ReadyAsync();
                views.Add($"{node.Host}: {up} Up, ready {ready}");
                ok &= up == count && ready;
            }
            if (ok) return;
            seen = $"{running.Count} running; " + string.Join("; ", views);
            await Task.Delay(500);
        }
        throw new TimeoutException($"cluster {string.Join(",", Nodes.Select(n => n.Host))} not {count} Up within {timeout} (last seen: {seen})\n" +
                                   string.Join("\n", Nodes.Select(n => n.Tail())));
    }

    /// <summary>The log tails of every node, for assertion messages.</summary>
    /// <returns>The text.</returns>
    public string Logs() => string.Join("\n", Nodes.Select(n => n.Tail()));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Every node stops: none should spend its leave copying images to the others, which stop too.
        if (Nodes.Any(n => n.IsRunning)) await AnnounceStopAsync();
        await Task.WhenAll(Nodes.Select(n => n.DisposeAsync().AsTask()));
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
